/**
 * The one error catalogue of Herald.
 *
 * Every error Herald raises on purpose is a {@link HeraldError} whose `code` is one of
 * {@link ERROR_CODES} (`HERALD_<AREA>_<WHAT>`; areas: TOPOLOGY, OPERATOR, EDGE, SINK, LOG, STORE,
 * CONFIG, AUTH). Codes are stable: clients, dashboards and docs/errors.md match on them, never on
 * message text. Each entry says which HTTP status it maps to when it reaches a client and whether
 * an operation that failed with it may be retried.
 *
 * A test (test/unit/errors.test.ts) fails when a code here is missing from docs/errors.md.
 */

/** Static facts about one error code. */
export interface ErrorSpec {
  /** HTTP status used when the error reaches a client of the edge. */
  readonly status: number;
  /** Whether retrying the same operation later may succeed. */
  readonly retriable: boolean;
  /** One line for docs/errors.md: when this happens. */
  readonly summary: string;
}

/** The catalogue. Add a code here and a line to docs/errors.md together. */
export const ERROR_CODES = {
  HERALD_CONFIG_INVALID: { status: 500, retriable: false, summary: 'A setting (env var or --flag) has an invalid value; start-up stops.' },
  HERALD_TOPOLOGY_INVALID: { status: 500, retriable: false, summary: 'The topology file does not parse or does not match the schema.' },
  HERALD_TOPOLOGY_NOT_FOUND: { status: 500, retriable: false, summary: 'The topology file does not exist or cannot be read.' },
  HERALD_OPERATOR_UNKNOWN: { status: 500, retriable: false, summary: 'A topology node names an operator type that is not registered.' },
  HERALD_OPERATOR_FAILED: { status: 500, retriable: true, summary: 'An operator threw while processing a batch.' },
  HERALD_OPERATOR_RECORD_INVALID: { status: 500, retriable: false, summary: 'A record on a log could not be decoded or lacks a required field; it goes to the DLQ.' },
  HERALD_EDGE_NOT_FOUND: { status: 404, retriable: false, summary: 'No route matches the request method and path.' },
  HERALD_EDGE_METHOD_NOT_ALLOWED: { status: 405, retriable: false, summary: 'The path exists but not for this HTTP method.' },
  HERALD_EDGE_UPGRADE_REQUIRED: { status: 426, retriable: false, summary: 'GET /ws was sent as a plain HTTP request; open it as a WebSocket (Upgrade: websocket).' },
  HERALD_EDGE_BODY_INVALID_JSON: { status: 400, retriable: false, summary: 'The request body is not valid JSON.' },
  HERALD_EDGE_BODY_INVALID: { status: 400, retriable: false, summary: 'A body field is missing or has the wrong type or format.' },
  HERALD_EDGE_QUERY_INVALID: { status: 400, retriable: false, summary: 'A query parameter is missing or malformed.' },
  HERALD_EDGE_ID_INVALID: { status: 400, retriable: false, summary: 'topic_id or user_id is not 1-128 characters of letters, digits and ._:-, or notification_id is not a UUID' },
  HERALD_EDGE_MESSAGE_TOO_LARGE: { status: 413, retriable: false, summary: 'The message is larger than HERALD_MAX_MESSAGE_BYTES.' },
  HERALD_EDGE_CHANNELS_INVALID: { status: 400, retriable: false, summary: 'POST /publish: channels is not a list of email, sms, push, or content/template_id was given without the channels it is for.' },
  HERALD_EDGE_CONTENT_TOO_LARGE: { status: 413, retriable: false, summary: 'POST /publish: the channel content (given or rendered from the template) is larger than 64 KiB of JSON.' },
  HERALD_EDGE_BODY_TOO_LARGE: { status: 413, retriable: false, summary: 'The request body exceeds the edge body limit.' },
  HERALD_EDGE_UNSUPPORTED_MEDIA_TYPE: { status: 415, retriable: false, summary: 'The request body is not application/json.' },
  HERALD_EDGE_CURSOR_INVALID: { status: 400, retriable: false, summary: 'The cursor was not produced by this server or is corrupt.' },
  HERALD_EDGE_IDEMPOTENCY_KEY_INVALID: { status: 400, retriable: false, summary: 'The Idempotency-Key header is empty or longer than 255 characters.' },
  HERALD_EDGE_IDEMPOTENCY_KEY_REUSED: { status: 422, retriable: false, summary: 'The Idempotency-Key was first used on this topic with a different message.' },
  HERALD_EDGE_EMAIL_INVALID: { status: 400, retriable: false, summary: 'PUT /users/{user_id}/channels: email is not a plain address local@domain (ASCII, no display name, at most 254 characters).' },
  HERALD_EDGE_PHONE_INVALID: { status: 400, retriable: false, summary: 'PUT /users/{user_id}/channels: phone is not an E.164 number (+ and 7-15 digits, e.g. +14155550123).' },
  HERALD_EDGE_PUSH_SUBSCRIPTION_INVALID: { status: 400, retriable: false, summary: 'PUT /users/{user_id}/channels: push is not a list of at most 10 Web Push subscriptions ({endpoint: https URL, keys: {p256dh, auth}}).' },
  HERALD_EDGE_PREFERENCES_INVALID: { status: 400, retriable: false, summary: 'PUT /users/{user_id}/preferences: a switch is not true/false, a key is unknown, a topic_id is invalid, or more than 1,000 topics.' },
  HERALD_EDGE_CONTENT_INVALID: { status: 400, retriable: false, summary: 'Channel content (a template, or a publish\'s content) is not {email?: {subject, text, html?}, sms?: {text}, push?: {title, body, url?}} with non-empty strings within the length limits (url: http(s)).' },
  HERALD_EDGE_TEMPLATE_INVALID: { status: 400, retriable: false, summary: 'PUT /templates/{template_id}: a field is not a valid Handlebars template (syntax error, partial or unknown helper); the message names the field.' },
  HERALD_EDGE_TEMPLATE_RENDER_FAILED: { status: 400, retriable: false, summary: 'A template could not be rendered with the publish\'s data (a variable it uses is missing), or the result breaks a content limit.' },
  HERALD_EDGE_TEMPLATE_NOT_FOUND: { status: 404, retriable: false, summary: 'No template has this template_id.' },
  HERALD_EDGE_ORIGIN_NOT_ALLOWED: { status: 403, retriable: false, summary: 'A browser origin not in HERALD_CORS_ORIGINS (CORS preflight, or a cross-origin WebSocket).' },
  HERALD_EDGE_UNAVAILABLE: { status: 503, retriable: true, summary: 'The edge (or router) cannot serve the request now: starting, draining, or no edge owns the user\'s partition during a rebalance; retry after Retry-After.' },
  HERALD_EDGE_INTERNAL: { status: 500, retriable: true, summary: 'An unexpected error inside the edge; the request may be retried.' },
  HERALD_EDGE_UPSTREAM_FAILED: { status: 502, retriable: true, summary: 'herald router: the owning edge failed after the request was sent to it, so it may or may not have taken effect; retry (publish with the same Idempotency-Key).' },
  HERALD_LOG_APPEND_FAILED: { status: 503, retriable: true, summary: 'Appending to a log topic failed; nothing was accepted.' },
  HERALD_LOG_CORRUPT: { status: 500, retriable: false, summary: 'A log segment has a record whose checksum does not match.' },
  HERALD_LOG_TOPIC_UNKNOWN: { status: 500, retriable: false, summary: 'A log topic was used before it was created.' },
  HERALD_LOG_DIR_LOCKED: { status: 500, retriable: false, summary: 'Another running Herald process holds the data directory.' },
  HERALD_LOG_CLOSED: { status: 503, retriable: true, summary: 'The log transport, producer or consumer is closed.' },
  HERALD_LOG_CLIENT_MISSING: { status: 500, retriable: false, summary: 'The kafka profile needs the librdkafka client, which is not built on this machine (run npm run setup:kafka).' },
  HERALD_LOG_BROKER_UNAVAILABLE: { status: 503, retriable: true, summary: 'The Kafka brokers in HERALD_KAFKA_BROKERS did not answer (metadata or admin request timed out).' },
  HERALD_LOG_TRANSACTION_FAILED: { status: 503, retriable: true, summary: 'A Kafka transaction (outputs + source offsets) was aborted; its batches are handed again.' },
  HERALD_LOG_FENCED: { status: 500, retriable: false, summary: 'Another instance took over this consumer group member or transactional id (zombie fencing); this member stops.' },
  HERALD_STORE_FAILED: { status: 503, retriable: true, summary: 'A store (subscriptions, inbox, dedup, idempotency) failed.' },
  HERALD_STORE_REJECTED: { status: 500, retriable: false, summary: 'A store refused the operation for a reason a retry cannot fix (constraint violation, read-only or closed store, corrupt or unmigrated database).' },
  HERALD_SINK_FAILED: { status: 500, retriable: true, summary: 'A sink could not write its batch.' },
  HERALD_AUTH_REQUIRED: { status: 401, retriable: false, summary: 'The request needs credentials: a publisher key, or a user token.' },
  HERALD_AUTH_KEY_INVALID: { status: 401, retriable: false, summary: 'The publisher key is not one of HERALD_PUBLISHER_KEYS.' },
  HERALD_AUTH_TOKEN_INVALID: { status: 401, retriable: false, summary: 'The user token is malformed or its signature does not match (forged, or signed with another secret).' },
  HERALD_AUTH_TOKEN_EXPIRED: { status: 401, retriable: false, summary: 'The user token has expired; mint a new one.' },
  HERALD_AUTH_DISABLED: { status: 409, retriable: false, summary: 'Tokens were asked for, but auth is off on this server (no HERALD_PUBLISHER_KEYS).' },
  HERALD_AUTH_FORBIDDEN: { status: 403, retriable: false, summary: "The credentials do not allow this request (e.g. a user token for another user's notifications)." },
} as const satisfies Record<string, ErrorSpec>;

/** Union of every stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Options accepted by {@link HeraldError}. */
export interface HeraldErrorOptions {
  /** The lower-level error that caused this one. */
  cause?: unknown;
  /** Structured details safe to show a client (e.g. the list of schema issues). */
  details?: unknown;
}

/**
 * Base class of every error Herald raises on purpose.
 * `status` and `retriable` come from the catalogue entry of `code`.
 */
export class HeraldError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: HeraldErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HeraldError';
    this.code = code;
    const spec: ErrorSpec = ERROR_CODES[code];
    this.status = spec.status;
    this.retriable = spec.retriable;
    this.details = options.details;
  }

  /** The JSON body the edge sends: `{"error":{"code","message"[,"details"]}}`. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    const error: { code: ErrorCode; message: string; details?: unknown } = { code: this.code, message: this.message };
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

/** True when `err` is a {@link HeraldError}, optionally with the given code. */
export function isHeraldError(err: unknown, code?: ErrorCode): err is HeraldError {
  return err instanceof HeraldError && (code === undefined || err.code === code);
}

/**
 * Programmer errors are never retried (TypeError, RangeError, ReferenceError, SyntaxError).
 * Retriable: a HeraldError marked retriable, or any other Error that is not a programmer error.
 */
export function isRetriable(err: unknown): boolean {
  if (err instanceof HeraldError) return err.retriable;
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError) return false;
  return err instanceof Error;
}
