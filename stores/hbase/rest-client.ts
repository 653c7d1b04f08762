/**
 * A small HBase REST ("Stargate") client on fetch: only what Herald's HBase stores need.
 *
 * Speaks the JSON flavour of the REST protocol (row keys, column names and values base64 in the
 * bodies), so it works against Apache's RESTServer and against the gateway of
 * scripts/services.sh (scripts/services/hbase/HeraldHBaseRest.java). Every HTTP request carries
 * its own deadline (`AbortSignal.timeout`), so a frozen gateway or HBase never hangs a caller.
 *
 * Failures reject with a HeraldError: `HERALD_STORE_FAILED` (retriable) for connection errors,
 * timeouts, 5xx, 408 and 429; `HERALD_STORE_REJECTED` for the other 4xx answers (a retry cannot
 * fix them: missing table, bad request). The fetch error or HTTP status text is kept as `cause`.
 */
import { HeraldError } from '../../core/errors.ts';

/** Options of {@link HBaseRestClient}. */
export interface HBaseRestOptions {
  /** Base URL of the REST server, e.g. `http://127.0.0.1:18080` (HERALD_HBASE_REST_URL). */
  url: string;
  /** Deadline of one HTTP request, ms. Default 5,000. */
  timeoutMs?: number;
  /** Deadline of schema changes (create/drop wait for regions to open/close), ms. Default 60,000. */
  schemaTimeoutMs?: number;
}

/** One column family of a table to create. */
export interface FamilySpec {
  /** Family name, e.g. `n`. */
  name: string;
  /** Time to live of the family's cells, seconds; absent = forever. */
  ttlSeconds?: number;
  /** Versions kept per cell. Default 1. */
  versions?: number;
}

/** One cell: `family:qualifier` and its value bytes. */
export interface HBaseCell {
  column: string;
  value: Buffer;
}

/** One row: its key and cells. */
export interface HBaseRow {
  key: Buffer;
  cells: HBaseCell[];
}

/** Options of {@link HBaseRestClient.scan}. */
export interface ScanOptions {
  /** First row key (inclusive); absent = the table's first row. */
  start?: Buffer;
  /** Stop row key (exclusive); absent = to the table's end. */
  stop?: Buffer;
  /** At most this many rows are returned (≥ 1). */
  limit: number;
  /** Only these `family:qualifier` columns; absent = all. */
  columns?: readonly string[];
}

/** Largest number of rows one scanner GET asks for (and the scanner's caching), rows. */
const MAX_ROWS_PER_GET = 1_000;
/** Cells per scanner GET per row asked for: rows here carry at most a few cells. */
const CELLS_PER_ROW = 8;

interface CellSetJson {
  Row?: { key: string; Cell?: { column: string; $?: string }[] }[];
}

const b64 = (bytes: Buffer | string): string => (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes).toString('base64');

/** Whether an HTTP status is worth retrying (server trouble, overload, request timeout). */
function retriableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Runs `fn` over `items` with at most `width` calls in flight; results in input order. */
export async function mapLimited<T, R>(items: readonly T[], width: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, width), items.length) }, worker));
  return out;
}

/** HBase REST client; one per store is enough (fetch pools connections). */
export class HBaseRestClient {
  readonly #base: string;
  readonly #timeoutMs: number;
  readonly #schemaTimeoutMs: number;

  constructor(o: HBaseRestOptions) {
    this.#base = o.url.replace(/\/+$/, '');
    this.#timeoutMs = o.timeoutMs ?? 5_000;
    this.#schemaTimeoutMs = o.schemaTimeoutMs ?? 60_000;
  }

  /**
   * One request with a deadline. Returns the response (body unread) for 2xx, and for 404 when
   * `allow404`; throws HeraldError otherwise (see the module comment).
   */
  async #request(method: string, path: string, body: unknown, opts: { timeoutMs?: number; allow404?: boolean } = {}): Promise<Response> {
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    const what = `HBase REST ${method} ${path.length > 120 ? `${path.slice(0, 120)}…` : path}`;
    let res: Response;
    try {
      res = await fetch(this.#base + path, {
        method,
        headers: { Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw new HeraldError('HERALD_STORE_FAILED', `${what} failed: ${why}`, { cause: err });
    }
    if (res.ok || (opts.allow404 === true && res.status === 404)) return res;
    const text = (await res.text().catch(() => '')).trim().replace(/\s+/g, ' ').slice(0, 300);
    const cause = new Error(`HTTP ${res.status}${text ? ` ${text}` : ''}`);
    throw new HeraldError(retriableStatus(res.status) ? 'HERALD_STORE_FAILED' : 'HERALD_STORE_REJECTED', `${what} failed: ${cause.message}`, { cause });
  }

  /** Runs a request and discards its body (so the connection goes back to the pool). */
  async #send(method: string, path: string, body?: unknown, opts?: { timeoutMs?: number; allow404?: boolean }): Promise<number> {
    const res = await this.#request(method, path, body, opts);
    await res.arrayBuffer().catch(() => undefined);
    return res.status;
  }

  /** Whether `table` exists. */
  async tableExists(table: string): Promise<boolean> {
    return (await this.#send('GET', `/${encodeURIComponent(table)}/schema`, undefined, { allow404: true })) !== 404;
  }

  /**
   * Migration step: creates `table` with `families` unless it exists (an existing table is left
   * as it is). Returns true when it was created.
   */
  async ensureTable(table: string, families: readonly FamilySpec[]): Promise<boolean> {
    if (await this.tableExists(table)) return false;
    const ColumnSchema = families.map((f) => ({
      name: f.name,
      ...(f.ttlSeconds === undefined ? {} : { TTL: String(f.ttlSeconds) }),
      VERSIONS: String(f.versions ?? 1),
    }));
    await this.#send('POST', `/${encodeURIComponent(table)}/schema`, { name: table, ColumnSchema }, { timeoutMs: this.#schemaTimeoutMs });
    return true;
  }

  /** Disables and drops `table`; a missing table is not an error. */
  async dropTable(table: string): Promise<void> {
    await this.#send('DELETE', `/${encodeURIComponent(table)}/schema`, undefined, { timeoutMs: this.#schemaTimeoutMs, allow404: true });
  }

  /** Writes all `rows` in one request (one HBase batch of puts; not atomic across rows). */
  async putRows(table: string, rows: readonly HBaseRow[]): Promise<void> {
    if (rows.length === 0) return;
    const Row = rows.map((r) => ({ key: b64(r.key), Cell: r.cells.map((c) => ({ column: b64(c.column), $: b64(c.value) })) }));
    await this.#send('PUT', `/${encodeURIComponent(table)}/batch`, { Row });
  }

  /** One row (all its cells), or null when it has none. */
  async getRow(table: string, key: Buffer): Promise<HBaseRow | null> {
    const res = await this.#request('GET', `/${encodeURIComponent(table)}/${encodeRowPath(key)}`, undefined, { allow404: true });
    if (res.status === 404) {
      await res.arrayBuffer().catch(() => undefined);
      return null;
    }
    const rows = parseCellSet((await res.json()) as CellSetJson);
    return rows[0] ?? null;
  }

  /** Deletes whole rows, at most `concurrency` DELETE requests in flight (REST deletes one row per request). */
  async deleteRows(table: string, keys: readonly Buffer[], concurrency = 8): Promise<void> {
    await mapLimited(keys, concurrency, (key) => this.#send('DELETE', `/${encodeURIComponent(table)}/${encodeRowPath(key)}`));
  }

  /**
   * Rows with `start` ≤ key < `stop` in key order, at most `limit`. Opens a scanner, reads it in
   * GETs of up to 1,000 rows, and always closes it (also on failure).
   */
  async scan(table: string, o: ScanOptions): Promise<HBaseRow[]> {
    if (!Number.isInteger(o.limit) || o.limit < 1) throw new RangeError(`scan limit must be a positive integer, got ${o.limit}`);
    const perGet = Math.min(o.limit, MAX_ROWS_PER_GET);
    const spec: Record<string, unknown> = { batch: perGet * CELLS_PER_ROW, caching: Math.min(perGet + 1, MAX_ROWS_PER_GET) };
    if (o.start !== undefined) spec.startRow = b64(o.start);
    if (o.stop !== undefined) spec.endRow = b64(o.stop);
    if (o.columns !== undefined) spec.column = o.columns.map((c) => b64(c));
    const created = await this.#request('POST', `/${encodeURIComponent(table)}/scanner`, spec);
    await created.arrayBuffer().catch(() => undefined);
    const location = created.headers.get('location');
    if (location === null) throw new HeraldError('HERALD_STORE_FAILED', `HBase REST scanner on ${table} was created without a Location header`);
    const path = new URL(location, this.#base).pathname;
    try {
      const rows: HBaseRow[] = [];
      while (rows.length < o.limit) {
        const res = await this.#request('GET', `${path}?n=${Math.min(o.limit - rows.length, MAX_ROWS_PER_GET)}`, undefined);
        if (res.status === 204) break;
        for (const row of parseCellSet((await res.json()) as CellSetJson)) {
          const last = rows.at(-1);
          // A row larger than `batch` cells arrives in parts, in consecutive GETs.
          if (last !== undefined && last.key.equals(row.key)) last.cells.push(...row.cells);
          else rows.push(row);
        }
      }
      return rows.slice(0, o.limit);
    } finally {
      await this.#send('DELETE', path).catch(() => undefined);
    }
  }
}

/** Percent-encodes every byte of a row key for a URL path segment. */
function encodeRowPath(key: Buffer): string {
  let out = '';
  for (const byte of key) {
    const unreserved = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x2d || byte === 0x5f || byte === 0x7e;
    out += unreserved ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function parseCellSet(set: CellSetJson): HBaseRow[] {
  return (set.Row ?? []).map((r) => ({
    key: Buffer.from(r.key, 'base64'),
    cells: (r.Cell ?? []).map((c) => ({ column: Buffer.from(c.column, 'base64').toString('utf8'), value: Buffer.from(c.$ ?? '', 'base64') })),
  }));
}
