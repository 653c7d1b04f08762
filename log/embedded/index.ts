/**
 * The embedded log transport: Herald's default, one-process, durable on-disk partitioned log
 * with in-process consumer groups. See transport.ts for the on-disk layout.
 *
 * ```ts
 * const log = createEmbeddedTransport({ dataDir: './data' });
 * await log.ensureTopics([{ name: 'herald.publish', partitions: 8 }]);
 * await log.createProducer().send('herald.publish', [{ key: 'topic-1', value: '{"..."}' }]);
 * ```
 */
import { resolveEmbeddedOptions } from './options.ts';
import { EmbeddedTransport } from './transport.ts';
import type { EmbeddedLogTransport, EmbeddedTransportOptions } from './types.ts';

export { EMBEDDED_DEFAULTS, MAX_SEGMENT_BYTES } from './options.ts';
export type { AssignmentStrategy, EmbeddedLogTransport, EmbeddedTransportOptions, FsyncPolicy, ResolvedEmbeddedOptions } from './types.ts';

/**
 * Opens (recovering what is on disk) or creates the embedded log under `<dataDir>/log/`.
 * @throws HeraldError HERALD_CONFIG_INVALID for bad options, HERALD_LOG_CORRUPT when a segment
 *   fails its CRC/size checks in the middle (a torn tail is truncated instead); fs errors
 */
export function createEmbeddedTransport(options: EmbeddedTransportOptions): EmbeddedLogTransport {
  return new EmbeddedTransport(resolveEmbeddedOptions(options));
}
