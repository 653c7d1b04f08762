/**
 * Settings of the Kafka log transport, validated once (zod). librdkafka property names are used
 * as they are documented in librdkafka's CONFIGURATION.md.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { HeraldError } from '../../core/errors.ts';

/** Options of {@link createKafkaTransport}. */
export interface KafkaTransportOptions {
  /** Bootstrap brokers, `host:port[,host:port...]` (HERALD_KAFKA_BROKERS). */
  brokers: string;
  /** client.id prefix of every client, for broker logs and quotas. Default `herald`. */
  clientId?: string;
  /**
   * Names this process in transactional ids (`<group>.<instanceId>`); unique per running
   * instance, stable across its restarts (the profile keeps it in the data directory), so a
   * restarted instance aborts what its predecessor left open at once. Zombie fencing itself rests
   * on the consumer group generation (KIP-447). Default: a random UUID.
   */
  instanceId?: string;
  /** Replication factor of created log topics; -1 = the broker's default (KIP-464). Default -1. */
  replicationFactor?: number;
  /** Timeout of admin and metadata requests, ms. Default 30 000. */
  requestTimeoutMs?: number;
  /** Consumer session timeout, ms: how soon a killed member's partitions move. Default 10 000. */
  sessionTimeoutMs?: number;
  /**
   * Max time between polls before the broker evicts a member, ms (max.poll.interval.ms). Herald
   * polls continuously while batches run on worker threads, so slow batches never hit it.
   * Default 300 000.
   */
  maxPollIntervalMs?: number;
  /**
   * transaction.timeout.ms of exactly-once stages: how long a transaction left open by a killed
   * instance blocks read_committed readers of its partitions before the broker aborts it (an
   * instance restarted with the same instanceId aborts it at once). Default 10 000.
   */
  transactionTimeoutMs?: number;
  /** Producer linger, ms: how long librdkafka waits to fill a batch. Default 5. */
  lingerMs?: number;
  /** Extra librdkafka properties for every client (e.g. security.protocol, sasl.*). */
  extra?: Record<string, string | number | boolean>;
}

const schema = z.object({
  brokers: z.string().regex(/^[^\s,]+:\d+(,[^\s,]+:\d+)*$/, 'a comma-separated list of host:port'),
  clientId: z.string().min(1).optional(),
  instanceId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
  replicationFactor: z.number().int().min(-1).max(16).refine((n) => n !== 0, 'must not be 0').optional(),
  requestTimeoutMs: z.number().int().min(100).optional(),
  sessionTimeoutMs: z.number().int().min(1000).optional(),
  maxPollIntervalMs: z.number().int().min(1000).optional(),
  lingerMs: z.number().min(0).optional(),
  transactionTimeoutMs: z.number().int().min(1000).max(900_000).optional(),
  extra: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

/** Options with every default applied. */
export type ResolvedKafkaOptions = Required<KafkaTransportOptions>;

/**
 * Validates options and applies defaults.
 * @throws HeraldError HERALD_CONFIG_INVALID naming the bad option
 */
export function resolveKafkaOptions(o: KafkaTransportOptions): ResolvedKafkaOptions {
  const r = schema.safeParse(o);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new HeraldError('HERALD_CONFIG_INVALID', `kafka transport option ${issue.path.join('.') || '(root)'}: ${issue.message} (brokers e.g. HERALD_KAFKA_BROKERS=127.0.0.1:9092)`);
  }
  return {
    brokers: o.brokers,
    clientId: o.clientId ?? 'herald',
    instanceId: o.instanceId ?? randomUUID(),
    replicationFactor: o.replicationFactor ?? -1,
    requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
    sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
    maxPollIntervalMs: o.maxPollIntervalMs ?? 300_000,
    lingerMs: o.lingerMs ?? 5,
    transactionTimeoutMs: o.transactionTimeoutMs ?? 10_000,
    extra: o.extra ?? {},
  };
}
