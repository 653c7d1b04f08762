/** Tiny JSON-over-HTTP client for tests (real HTTP via global fetch). */

/** Response of {@link api}. */
export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Sends a request with an optional JSON body and parses the JSON answer. */
export async function api<T = any>(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Uint8Array ? (body as string | Uint8Array<ArrayBuffer>) : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics)
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** Reads every page of GET /notifications for `userId`. */
export async function fetchAll(base: string, userId: string, limit = 100, since?: string): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  for (;;) {
    const q = new URLSearchParams({ user_id: userId, limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    if (since) q.set('since', since);
    const r = await api(base, 'GET', `/notifications?${q}`);
    if (r.status !== 200) throw new Error(`GET /notifications → ${r.status} ${JSON.stringify(r.body)}`);
    out.push(...r.body.notifications);
    cursor = r.body.next_cursor;
    if (!cursor) return out;
  }
}

/** Polls `check` every `intervalMs` until it returns true; throws naming `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition', intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
