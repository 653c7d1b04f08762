/**
 * Structured logging (pino). One root logger per process; modules take a child with
 * `logger.child({ module: 'edge' })`. Level from HERALD_LOG_LEVEL (default `info`; `silent` in tests).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Accepted values of HERALD_LOG_LEVEL (validated with the other settings in core/config.ts). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const requested = process.env.HERALD_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');
// An invalid value must not crash at import: config validation reports it by name.
const level = (LOG_LEVELS as readonly string[]).includes(requested) ? requested : 'info';

/** The process-wide root logger. JSON lines on stdout. */
export const logger: Logger = pino({ level, base: { service: 'herald', pid: process.pid } });
