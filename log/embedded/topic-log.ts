/**
 * A log topic of the embedded log: its metadata file and its partitions.
 *
 * Metadata: `<dataDir>/log/<topic>/topic.json` = `{"version":1,"name","partitions","retentionMs"}`,
 * written atomically (tmp + rename) after the partition directories exist, so a topic is either
 * fully created or invisible after a crash.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeraldError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { PartitionLog } from './partition-log.ts';

/** Contents of `topic.json`. */
export interface TopicMeta {
  version: 1;
  name: string;
  /** Partition count (>= 1). */
  partitions: number;
  /** Time retention, ms. */
  retentionMs: number;
}

/** Name of the metadata file in a topic directory. */
export const TOPIC_META_FILE = 'topic.json';

/** Log topic names: Kafka's legal characters, at most 249 of them; `_offsets` is reserved. */
const TOPIC_NAME_RE = /^[A-Za-z0-9._-]{1,249}$/;

/**
 * Checks a log topic name (it becomes a directory name).
 * @throws HeraldError HERALD_CONFIG_INVALID
 */
export function assertTopicName(name: string): void {
  if (!TOPIC_NAME_RE.test(name) || name === '.' || name === '..' || name === '_offsets') {
    throw new HeraldError('HERALD_CONFIG_INVALID', `invalid log topic name ${JSON.stringify(name)}: use 1-249 of [A-Za-z0-9._-], not "_offsets"`);
  }
}

/** An open log topic. */
export class TopicLog {
  readonly meta: TopicMeta;
  readonly partitions: PartitionLog[];

  private constructor(meta: TopicMeta, partitions: PartitionLog[]) {
    this.meta = meta;
    this.partitions = partitions;
  }

  /** Topic name. */
  get name(): string {
    return this.meta.name;
  }

  /**
   * Reads `<dir>/topic.json` and opens (recovers) every partition; null when the file is missing
   * (a topic whose creation did not finish).
   * @throws HeraldError HERALD_LOG_CORRUPT (bad metadata or segment); fs errors
   */
  static open(dir: string, settings: { segmentBytes: number; fsync: boolean }, log: Logger): TopicLog | null {
    const metaPath = join(dir, TOPIC_META_FILE);
    if (!existsSync(metaPath)) return null;
    let meta: TopicMeta;
    try {
      meta = JSON.parse(readFileSync(metaPath, 'utf8')) as TopicMeta;
    } catch (err) {
      throw new HeraldError('HERALD_LOG_CORRUPT', `log topic metadata ${metaPath} is not valid JSON (byte 0)`, { cause: err, details: { file: metaPath, position: 0 } });
    }
    if (!Number.isInteger(meta.partitions) || meta.partitions < 1 || typeof meta.name !== 'string' || !(meta.retentionMs > 0)) {
      throw new HeraldError('HERALD_LOG_CORRUPT', `log topic metadata ${metaPath} has invalid fields (byte 0)`, { details: { file: metaPath, position: 0 } });
    }
    return new TopicLog(meta, TopicLog.#openPartitions(dir, meta, settings, log));
  }

  /**
   * Creates the topic directory, its partitions and then its metadata file.
   * @throws fs errors
   */
  static create(dir: string, meta: TopicMeta, settings: { segmentBytes: number; fsync: boolean }, log: Logger): TopicLog {
    mkdirSync(dir, { recursive: true });
    const partitions = TopicLog.#openPartitions(dir, meta, settings, log);
    writeFileAtomic(join(dir, TOPIC_META_FILE), `${JSON.stringify(meta)}\n`, settings.fsync);
    return new TopicLog(meta, partitions);
  }

  static #openPartitions(dir: string, meta: TopicMeta, settings: { segmentBytes: number; fsync: boolean }, log: Logger): PartitionLog[] {
    const out: PartitionLog[] = [];
    try {
      for (let p = 0; p < meta.partitions; p++) {
        const child = log.child({ topic: meta.name, partition: p });
        out.push(PartitionLog.open(join(dir, String(p)), meta.name, p, { ...settings, retentionMs: meta.retentionMs }, child));
      }
    } catch (err) {
      for (const p of out) p.close();
      throw err;
    }
    return out;
  }

  /** Closes every partition. */
  close(): void {
    for (const p of this.partitions) p.close();
  }
}
