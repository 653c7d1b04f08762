/**
 * Loads the librdkafka binding (@confluentinc/kafka-javascript) on demand. It is an optional
 * dependency built by `npm run setup:kafka`: the embedded profile never loads it, so
 * `npm ci && npm start` needs no native build.
 */
import { createRequire } from 'node:module';
import { HeraldError } from '../../core/errors.ts';

/** The module's exports (the node-rdkafka-style API). */
export type KafkaClientModule = typeof import('@confluentinc/kafka-javascript');

let cached: KafkaClientModule | null = null;

/**
 * Returns the loaded binding.
 * @throws HeraldError HERALD_LOG_CLIENT_MISSING when the package is absent or its native addon was
 *   not built for this Node.js (the message says how to build it)
 */
export function loadKafkaClient(): KafkaClientModule {
  if (cached !== null) return cached;
  try {
    cached = createRequire(import.meta.url)('@confluentinc/kafka-javascript') as KafkaClientModule;
    return cached;
  } catch (err) {
    throw new HeraldError(
      'HERALD_LOG_CLIENT_MISSING',
      `the kafka profile needs @confluentinc/kafka-javascript built for Node.js ${process.version}: run \`npm run setup:kafka\` once (installs the librdkafka build dependencies and builds the client, about 1-3 minutes), or use HERALD_PROFILE=embedded. Cause: ${(err as Error).message.split('\n')[0]}`,
      { cause: err },
    );
  }
}

/** librdkafka's error as delivered to callbacks: a numeric code and a message. */
export interface RdKafkaError {
  message: string;
  code: number;
  isRetriable?: boolean;
  isFatal?: boolean;
  isTxnRequiresAbort?: boolean;
}

/** librdkafka error codes Herald handles by value (rdkafka.h). */
export const RD = {
  ASSIGN_PARTITIONS: -175,
  REVOKE_PARTITIONS: -174,
  TIMED_OUT: -185,
  PARTITION_EOF: -191,
  FENCED: -144, // RD_KAFKA_RESP_ERR__FENCED
  PRODUCER_FENCED: 90,
  INVALID_PRODUCER_EPOCH: 47,
  TOPIC_ALREADY_EXISTS: 36,
} as const;

/** Turns a librdkafka callback into a promise. */
export function call<T = void>(fn: (cb: (err: any, value?: any) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err: unknown, value?: unknown) => (err ? reject(err) : resolve(value as T)));
  });
}

/** librdkafka KafkaConsumer methods the bundled typings omit (cooperative rebalancing, KIP-429). */
export interface CooperativeConsumer {
  incrementalAssign(tps: { topic: string; partition: number }[]): void;
  incrementalUnassign(tps: { topic: string; partition: number }[]): void;
  assignmentLost(): boolean;
  /** consume(n): the timeout bounds the wait for the first message only, not each message. */
  setDefaultIsTimeoutOnlyForFirstMessage(on: boolean): void;
}
