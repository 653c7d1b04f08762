/**
 * A producer handle of the embedded log ({@link LogProducer}); all producers of a transport share
 * its group-commit {@link Appender}.
 */
import { HeraldError } from '../../core/errors.ts';
import type { EncodedRecords } from '../record-codec.ts';
import type { LogProducer, ProduceRecord, RecordMetadata } from '../types.ts';
import type { Appender } from './appender.ts';
import type { TopicLog } from './topic-log.ts';

/** Transport services a producer uses. */
export interface ProducerHost {
  appender: Appender;
  /** @throws HeraldError HERALD_LOG_TOPIC_UNKNOWN, HERALD_LOG_CLOSED */
  topic(name: string): TopicLog;
  forget(producer: EmbeddedProducer): void;
}

/** Appends records; see {@link LogProducer}. */
export class EmbeddedProducer implements LogProducer {
  readonly #host: ProducerHost;
  #closing: Promise<void> | null = null;

  constructor(host: ProducerHost) {
    this.#host = host;
  }

  /**
   * Appends `records` to `topic` (group-committed with concurrent calls). Resolves with each
   * record's partition and offset, in input order, once written to the segment files.
   * Rejects with HERALD_LOG_CLOSED, HERALD_LOG_TOPIC_UNKNOWN or HERALD_LOG_APPEND_FAILED.
   */
  send(topic: string, records: ProduceRecord[]): Promise<RecordMetadata[]> {
    try {
      this.#open();
      return this.#host.appender.send(this.#host.topic(topic), records);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Appends already framed entries (partition -1 → murmur2 of the key; timestamp 0 → now) without
   * decoding them to objects. Same errors as `send`.
   */
  sendEncoded(topic: string, records: EncodedRecords): Promise<void> {
    try {
      this.#open();
      return this.#host.appender.sendEncoded(this.#host.topic(topic), records);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Waits for queued sends to be written; later calls reject with HERALD_LOG_CLOSED. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#host.appender.drain().then(() => this.#host.forget(this));
    return this.#closing;
  }

  #open(): void {
    if (this.#closing !== null) throw new HeraldError('HERALD_LOG_CLOSED', 'log producer is closed');
  }
}
