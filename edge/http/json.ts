/**
 * JSON request/response helpers of the edge's HTTP API (node:http).
 * Errors are sent as `{"error":{"code":"HERALD_...","message":"..."}}` with the code's status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeraldError, isHeraldError } from '../../core/errors.ts';

/** Decodes request bodies; throws on bytes that are not UTF-8. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Sends `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/**
 * Sends an error. HeraldErrors keep their code and status; anything else becomes
 * HERALD_EDGE_INTERNAL (500) without leaking internals.
 */
export function sendError(res: ServerResponse, err: unknown): void {
  const herald = isHeraldError(err) ? err : new HeraldError('HERALD_EDGE_INTERNAL', 'Internal error; the request may be retried.', { cause: err });
  if (res.headersSent) {
    res.destroy(herald);
    return;
  }
  sendJson(res, herald.status, herald.toJSON());
}

/**
 * Reads and parses a JSON request body.
 * @param limitBytes max body size, bytes
 * @returns the parsed value (any JSON)
 * @throws HeraldError HERALD_EDGE_UNSUPPORTED_MEDIA_TYPE (content-type is set and not JSON),
 *   HERALD_EDGE_BODY_TOO_LARGE, HERALD_EDGE_BODY_INVALID_JSON
 */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(type)) {
    req.resume();
    throw new HeraldError('HERALD_EDGE_UNSUPPORTED_MEDIA_TYPE', `Send the body as JSON with "Content-Type: application/json" (got "${type}").`);
  }
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limitBytes) {
    req.resume();
    throw new HeraldError('HERALD_EDGE_BODY_TOO_LARGE', `The request body is ${declared} bytes; the limit is ${limitBytes} bytes.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      req.resume();
      throw new HeraldError('HERALD_EDGE_BODY_TOO_LARGE', `The request body exceeds the limit of ${limitBytes} bytes.`);
    }
    chunks.push(chunk);
  }
  let text: string;
  try {
    // JSON on the wire is UTF-8 (RFC 8259 §8.1): refuse other bytes instead of replacing them.
    text = strictUtf8.decode(Buffer.concat(chunks, size));
  } catch (err) {
    throw new HeraldError('HERALD_EDGE_BODY_INVALID_JSON', 'The request body is not UTF-8: send JSON encoded as UTF-8 (RFC 8259).', { cause: err });
  }
  if (text.trim() === '') throw new HeraldError('HERALD_EDGE_BODY_INVALID_JSON', 'The request body is empty; send a JSON object.');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HeraldError('HERALD_EDGE_BODY_INVALID_JSON', `The request body is not valid JSON: ${(err as Error).message}.`, { cause: err });
  }
}
