/**
 * Structured logging (pino). One root logger per process; modules take a child with
 * `logger.child({ module: 'edge' })`. Level from HERALD_LOG_LEVEL (default `info`; `silent` in tests).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const level = process.env.HERALD_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');

/** The process-wide root logger. JSON lines on stdout. */
export const logger: Logger = pino({ level, base: { service: 'herald', pid: process.pid } });
