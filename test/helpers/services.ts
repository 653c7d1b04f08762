/**
 * Endpoints of the real servers integration tests talk to, from the environment that
 * `scripts/services.sh env` prints (no Docker on these machines, so no testcontainers here).
 * A missing endpoint is a failure, never a skip: `npm run test:integration` starts the servers.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './herald.ts';

/** Bootstrap brokers of the test Kafka (HERALD_KAFKA_BROKERS). @throws Error when unset */
export function kafkaBrokers(): string {
  const brokers = process.env.HERALD_KAFKA_BROKERS;
  if (!brokers) {
    throw new Error('HERALD_KAFKA_BROKERS is not set. Run the integration suite with `npm run test:integration` (it starts Kafka with scripts/services.sh), or `scripts/services.sh up kafka && eval "$(scripts/services.sh env)"` first.');
  }
  return brokers;
}

/** A name no other test run uses (topics and consumer groups live on a shared broker). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * Writes a copy of the shipped topology whose log topics and consumer groups carry a unique
 * prefix instead of `herald.`, so runs on a shared broker never read each other's records.
 * @returns the path of the copy
 */
export function isolatedTopology(dir: string, prefix: string = uniqueName('it')): string {
  const text = fs.readFileSync(path.join(ROOT, 'jobs/notifications.topology.yaml'), 'utf8');
  const file = path.join(dir, 'topology.yaml');
  fs.writeFileSync(file, text.replace(/\bherald\.(publish|user|dlq|fanout|edge|channel)\b/g, `${prefix}.$1`));
  return file;
}

/** The test MariaDB/MySQL (HERALD_MYSQL_URL, user with rights on `herald_%` databases). @throws Error when unset */
export function mysqlUrl(): string {
  const url = process.env.HERALD_MYSQL_URL;
  if (!url) throw new Error('HERALD_MYSQL_URL is not set. Run `npm run test:integration` (it starts MariaDB with scripts/services.sh), or `scripts/services.sh up mariadb && eval "$(scripts/services.sh env)"` first.');
  return url;
}

/** The test Redis (HERALD_REDIS_URL). @throws Error when unset */
export function redisUrl(): string {
  const url = process.env.HERALD_REDIS_URL;
  if (!url) throw new Error('HERALD_REDIS_URL is not set. Run `npm run test:integration` (it starts Redis with scripts/services.sh), or `scripts/services.sh up redis && eval "$(scripts/services.sh env)"` first.');
  return url;
}

/**
 * Creates `n` empty databases named herald_<random>_<i> on the test server.
 * @returns their URLs and a function that drops them
 */
export async function freshMysqlDatabases(n: number): Promise<{ urls: string[]; drop: () => Promise<void> }> {
  const mysql = await import('mysql2/promise');
  const base = new URL(mysqlUrl());
  const admin = await mysql.createConnection({ uri: base.toString() });
  const names = Array.from({ length: n }, (_, i) => `herald_${randomUUID().slice(0, 8)}_${i}`);
  for (const name of names) await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.end();
  const urls = names.map((name) => {
    const u = new URL(base.toString());
    u.pathname = `/${name}`;
    return u.toString();
  });
  return {
    urls,
    drop: async () => {
      const c = await mysql.createConnection({ uri: base.toString() });
      for (const name of names) await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

/** The test HBase REST gateway (HERALD_HBASE_REST_URL). @throws Error when unset */
export function hbaseRestUrl(): string {
  const url = process.env.HERALD_HBASE_REST_URL;
  if (!url) throw new Error('HERALD_HBASE_REST_URL is not set. Run `npm run test:integration` (it starts HBase with scripts/services.sh), or `scripts/services.sh up hbase && eval "$(scripts/services.sh env)"` first.');
  return url;
}

/**
 * The environment for a Herald child process: this process's environment without the Herald
 * settings that pick stores and servers (`scripts/services.sh env` exports some of them, e.g.
 * HERALD_REDIS_URL, HERALD_HBASE_REST_URL), so a child uses exactly what its test passes.
 */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^HERALD_(PROFILE|KAFKA_BROKERS|MYSQL_SHARDS|REDIS_URL|HBASE_REST_URL|HBASE_INBOX_TABLE|SHARED_STORE_DIR|ADVERTISED_URL|TOPOLOGY|DATA_DIR)$/.test(key)) delete env[key];
  }
  return { ...env, ...extra };
}

/**
 * Settings of an in-process Herald on the kafka profile: the test broker, an isolated topology
 * copy and `dir` as its data directory, plus `extra` (store URLs and the like).
 */
export function kafkaProfileEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { HERALD_PROFILE: 'kafka', HERALD_KAFKA_BROKERS: kafkaBrokers(), HERALD_TOPOLOGY: isolatedTopology(dir), HERALD_DATA_DIR: dir, ...extra };
}
