/**
 * The embedded SQLite stores: the four store contracts, plus what only SQLite has (files,
 * migrations, read-only connections from worker threads, the driver error table).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HeraldError, isRetriable } from '../../../core/errors.ts';
import {
  openSqliteDedupStore,
  openSqliteIdempotencyStore,
  openSqliteInboxStore,
  openSqliteSubscriptionStore,
  sqliteStorePaths,
} from '../../../stores/sqlite/index.ts';
import { decodeInboxCursor, encodeInboxCursor } from '../../../stores/sqlite/inbox-cursor.ts';
import { INBOX_MIGRATIONS } from '../../../stores/sqlite/inbox-store.ts';
import { openDatabase } from '../../../stores/sqlite/open-database.ts';
import { SUBSCRIPTION_MIGRATIONS } from '../../../stores/sqlite/subscription-store.ts';
import { bucketRange, userHash } from '../../../core/user-hash.ts';
import { heraldCodeOfSqlite, toStoreError } from '../../../stores/sqlite/sqlite-errors.ts';
import { uuidV7Timestamp } from '../../../core/ids.ts';
import { dedupStoreContract } from '../../contract/dedup-store.contract.ts';
import { T0, entry, notificationAt, uuidV7At } from '../../contract/fixtures.ts';
import { idempotencyStoreContract } from '../../contract/idempotency-store.contract.ts';
import { inboxStoreContract } from '../../contract/inbox-store.contract.ts';
import { subscriptionStoreContract } from '../../contract/subscription-store.contract.ts';

/** A factory that opens a store in a fresh temp dir and removes the dir on cleanup. */
function inTempDir<S extends { close(): Promise<void> }>(open: (path: string) => Promise<S>): () => Promise<{ store: S; cleanup: () => Promise<void> }> {
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-sqlite-'));
    const store = await open(join(dir, 'store.db'));
    return {
      store,
      cleanup: async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  };
}

subscriptionStoreContract('sqlite', inTempDir((path) => openSqliteSubscriptionStore({ path })));
inboxStoreContract('sqlite', inTempDir((path) => openSqliteInboxStore({ path })));
dedupStoreContract('sqlite', inTempDir((path) => openSqliteDedupStore({ path })));
idempotencyStoreContract('sqlite', inTempDir((path) => openSqliteIdempotencyStore({ path })));

describe('sqlite stores: files, migrations, connections', () => {
  let dir: string;
  let paths: ReturnType<typeof sqliteStorePaths>;
  const toClose: { close(): Promise<void> }[] = [];
  const track = <S extends { close(): Promise<void> }>(s: S): S => {
    toClose.push(s);
    return s;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-sqlite-'));
    paths = sqliteStorePaths(join(dir, 'data'));
  });
  afterEach(async () => {
    for (const s of toClose.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const migrationsOf = (path: string): { version: number; name: string }[] => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare<[], { version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version').all();
    } finally {
      db.close();
    }
  };

  it('uses one file per store under the data dir, in WAL mode', async () => {
    expect(paths).toEqual({
      subscriptions: join(dir, 'data', 'subscriptions.db'),
      inbox: join(dir, 'data', 'inbox.db'),
      dedup: join(dir, 'data', 'dedup.db'),
      idempotency: join(dir, 'data', 'idempotency.db'),
    });
    track(await openSqliteSubscriptionStore({ path: paths.subscriptions }));
    track(await openSqliteInboxStore({ path: paths.inbox }));
    track(await openSqliteDedupStore({ path: paths.dedup }));
    track(await openSqliteIdempotencyStore({ path: paths.idempotency }));
    for (const path of Object.values(paths)) {
      const db = new Database(path, { readonly: true });
      expect(db.pragma('journal_mode', { simple: true }), path).toBe('wal');
      db.close();
    }
  });

  it('migrations are recorded once and are idempotent on reopen', async () => {
    await (await openSqliteInboxStore({ path: paths.inbox })).close();
    const first = migrationsOf(paths.inbox);
    expect(first).toEqual(INBOX_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    await (await openSqliteInboxStore({ path: paths.inbox })).close();
    await (await openSqliteInboxStore({ path: paths.inbox })).close();
    expect(migrationsOf(paths.inbox)).toEqual(first);
  });

  it('data survives close and reopen (all four stores)', async () => {
    const subs = await openSqliteSubscriptionStore({ path: paths.subscriptions });
    const inbox = await openSqliteInboxStore({ path: paths.inbox });
    const dedup = await openSqliteDedupStore({ path: paths.dedup });
    const idem = await openSqliteIdempotencyStore({ path: paths.idempotency });
    const n = notificationAt(T0, 1, { message: { hello: 'world' } });
    await subs.subscribe('t1', 'u1', T0);
    await inbox.append([entry('u1', 7, n)]);
    await dedup.confirm([{ key: 'k1', partition: 2, at: T0 }]);
    const rec = { id: n.id, published_at: n.published_at, state: 'pending' as const, fingerprint: '' };
    await idem.claim('t1', 'key', rec);
    await Promise.all([subs.close(), inbox.close(), dedup.close(), idem.close()]);

    const subs2 = track(await openSqliteSubscriptionStore({ path: paths.subscriptions }));
    const inbox2 = track(await openSqliteInboxStore({ path: paths.inbox }));
    const dedup2 = track(await openSqliteDedupStore({ path: paths.dedup }));
    const idem2 = track(await openSqliteIdempotencyStore({ path: paths.idempotency }));
    expect((await subs2.subscribersOf(['t1'])).get('t1')).toEqual([{ user_id: 'u1', subscribed_at: T0 }]);
    expect((await inbox2.list('u1', { limit: 10 })).notifications).toEqual([n]);
    expect(await inbox2.readAfter('u1', uuidV7At(T0 - 1), 10)).toEqual({ found: false, entries: [entry('u1', 7, n)] });
    expect(await dedup2.keysSince(2, 0)).toEqual([{ key: 'k1', at: T0 }]);
    expect(await idem2.claim('t1', 'key', { ...rec, id: 'other' })).toEqual({ record: rec, created: false });
  });

  it('migration v3 backfills user_hash (the SQL function herald_user_hash) and the per-topic counters of a v2 file', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'data'), { recursive: true });
    const v2 = openDatabase({ path: paths.subscriptions }, SUBSCRIPTION_MIGRATIONS.slice(0, 2));
    const insert = v2.prepare('INSERT INTO subscriptions (topic_id, user_id, subscribed_at, unsubscribed_at) VALUES (?, ?, ?, ?)');
    for (let i = 0; i < 5; i++) insert.run('big', `u${i}`, T0, null);
    insert.run('big', 'u0', T0 - 10, T0 - 5); // an ended period counts too
    insert.run('small', 'u1', T0, null);
    v2.close();

    const subs = track(await openSqliteSubscriptionStore({ path: paths.subscriptions }));
    expect(migrationsOf(paths.subscriptions).map((m) => m.version)).toEqual([1, 2, 3]);
    const db = new Database(paths.subscriptions, { readonly: true });
    const rows = db.prepare<[], { user_id: string; user_hash: number }>('SELECT user_id, user_hash FROM subscriptions').all();
    const counters = db.prepare('SELECT topic_id, periods_created FROM topic_fanout ORDER BY topic_id').all();
    db.close();
    for (const r of rows) expect(r.user_hash).toBe(userHash(r.user_id));
    expect(counters).toEqual([
      { topic_id: 'big', periods_created: 6 },
      { topic_id: 'small', periods_created: 1 },
    ]);
    const found = await subs.subscribersForFanout(['big', 'small'], 5);
    expect(found.paged).toEqual(new Set(['big']));
    expect(found.inline.get('small')).toEqual([{ user_id: 'u1', subscribed_at: T0 }]);
    expect((await subs.subscribersInRange('big', bucketRange(0, 1), null, 100)).subscribers).toHaveLength(6);
  });

  it('openDatabase runs the setup hook before migrations, and a failing hook fails the open', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'data'), { recursive: true });
    const calls: string[] = [];
    const migration = { version: 1, name: 'test: uses a function', sql: 'CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (twice(21));' };
    const db = openDatabase({ path: join(dir, 'data', 'hook.db') }, [migration], {
      setup: (conn) => {
        calls.push('setup');
        conn.function('twice', { deterministic: true }, (x: unknown) => Number(x) * 2);
      },
    });
    expect(calls).toEqual(['setup']);
    expect(db.prepare('SELECT x FROM t').pluck().get()).toBe(42);
    db.close();
    expect(() =>
      openDatabase({ path: join(dir, 'data', 'hook.db'), readonly: true }, [migration], {
        setup: () => {
          throw new Error('no');
        },
      }),
    ).toThrow();
  });

  it('refuses a file that belongs to another store', async () => {
    await (await openSqliteSubscriptionStore({ path: paths.subscriptions })).close();
    await expect(openSqliteInboxStore({ path: paths.subscriptions })).rejects.toMatchObject({ code: 'HERALD_STORE_REJECTED', retriable: false });
  });

  it('refuses a file migrated by a newer Herald', async () => {
    await (await openSqliteDedupStore({ path: paths.dedup })).close();
    const db = new Database(paths.dedup);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'dedup: from the future', 0)").run();
    db.close();
    await expect(openSqliteDedupStore({ path: paths.dedup })).rejects.toMatchObject({ code: 'HERALD_STORE_REJECTED' });
    await expect(openSqliteDedupStore({ path: paths.dedup, readonly: true })).rejects.toMatchObject({ code: 'HERALD_STORE_REJECTED' });
  });

  it('a file that is not a database is rejected, not retried', async () => {
    const { writeFile, mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'data'), { recursive: true });
    await writeFile(paths.inbox, 'this is not sqlite, just some text that is long enough to look like a header '.repeat(20));
    const err = await openSqliteInboxStore({ path: paths.inbox }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeraldError);
    expect(err).toMatchObject({ code: 'HERALD_STORE_REJECTED', retriable: false });
    expect((err as Error).cause).toBeInstanceOf(Database.SqliteError);
  });

  describe('read-only connections', () => {
    it('a missing file or an unmigrated file cannot be opened read-only', async () => {
      await expect(openSqliteSubscriptionStore({ path: paths.subscriptions, readonly: true })).rejects.toMatchObject({ code: 'HERALD_STORE_REJECTED' });
      const { mkdir } = await import('node:fs/promises');
      await mkdir(join(dir, 'data'), { recursive: true });
      new Database(paths.dedup).close();
      await expect(openSqliteDedupStore({ path: paths.dedup, readonly: true })).rejects.toMatchObject({ code: 'HERALD_STORE_REJECTED' });
    });

    it('reads what the writer committed, including later commits; writes are rejected (not retriable)', async () => {
      const writer = track(await openSqliteSubscriptionStore({ path: paths.subscriptions }));
      const reader = track(await openSqliteSubscriptionStore({ path: paths.subscriptions, readonly: true }));
      await writer.subscribe('t1', 'u1', T0);
      expect((await reader.subscribersOf(['t1'])).get('t1')?.map((s) => s.user_id)).toEqual(['u1']);
      await writer.subscribe('t1', 'u2', T0);
      expect((await reader.subscribersOf(['t1'])).get('t1')?.map((s) => s.user_id)).toEqual(['u1', 'u2']);
      const err = await reader.subscribe('t2', 'u1', T0).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'HERALD_STORE_REJECTED', retriable: false });
      expect(isRetriable(err)).toBe(false);
    });

    it('a read-only connection answers the paged fan-out lookups and sees later commits', async () => {
      const writer = track(await openSqliteSubscriptionStore({ path: paths.subscriptions }));
      const reader = track(await openSqliteSubscriptionStore({ path: paths.subscriptions, readonly: true }));
      await writer.subscribe('t1', 'u1', T0);
      expect((await reader.subscribersForFanout(['t1'], 1)).inline.get('t1')).toEqual([{ user_id: 'u1', subscribed_at: T0 }]);
      await writer.subscribe('t1', 'u2', T0);
      expect((await reader.subscribersForFanout(['t1'], 1)).paged).toEqual(new Set(['t1']));
      expect((await reader.subscribersInRange('t1', bucketRange(0, 1), null, 10)).subscribers.map((s) => s.user_id).sort()).toEqual(['u1', 'u2']);
    });

    it('a reader opened while no writer is open still sees later commits of a new writer', async () => {
      await (await openSqliteSubscriptionStore({ path: paths.subscriptions })).close();
      const reader = track(await openSqliteSubscriptionStore({ path: paths.subscriptions, readonly: true }));
      expect((await reader.subscribersOf(['t1'])).get('t1')).toEqual([]);
      const writer = track(await openSqliteSubscriptionStore({ path: paths.subscriptions }));
      await writer.subscribe('t1', 'u1', T0);
      expect((await reader.subscribersOf(['t1'])).get('t1')?.map((s) => s.user_id)).toEqual(['u1']);
    });

    it('a worker_threads Worker with read-only stores sees rows committed by the main thread', async () => {
      const subs = track(await openSqliteSubscriptionStore({ path: paths.subscriptions }));
      const dedup = track(await openSqliteDedupStore({ path: paths.dedup }));
      await subs.subscribe('t1', 'u1', T0);
      await dedup.confirm([{ key: 'k1', partition: 0, at: T0 }]);

      const worker = new Worker(new URL('./fixtures/sqlite-reader-worker.ts', import.meta.url), {
        workerData: { subscriptionsPath: paths.subscriptions, dedupPath: paths.dedup },
      });
      try {
        const ask = async (msg: unknown): Promise<Record<string, unknown>> => {
          const reply = once(worker, 'message');
          worker.postMessage(msg);
          return (await reply)[0] as Record<string, unknown>;
        };
        const [ready] = (await Promise.race([once(worker, 'message'), once(worker, 'error').then(([e]) => Promise.reject(e))])) as [unknown];
        expect(ready).toEqual({ ready: true });

        expect(await ask({ op: 'subscribersOf', topics: ['t1', 't2'] })).toEqual({ users: { t1: ['u1'], t2: [] } });
        expect(await ask({ op: 'confirmed', keys: ['k1', 'k2'] })).toEqual({ keys: ['k1'] });

        // Commits made while the worker's connection is open are visible to its next read.
        await subs.subscribe('t2', 'u9', T0);
        await subs.subscribe('t1', 'u0', T0);
        await dedup.confirm([{ key: 'k2', partition: 0, at: T0 }]);
        expect(await ask({ op: 'subscribersOf', topics: ['t1', 't2'] })).toEqual({ users: { t1: ['u0', 'u1'], t2: ['u9'] } });
        expect(await ask({ op: 'fanout', topics: ['t1', 't2'], maxInline: 1 })).toEqual({ inline: { t2: ['u9'] }, paged: ['t1'], range: { t1: ['u0', 'u1'], t2: ['u9'] } });
        expect(await ask({ op: 'confirmed', keys: ['k1', 'k2'] })).toEqual({ keys: ['k1', 'k2'] });

        expect(await ask({ op: 'subscribe' })).toMatchObject({ error: { code: 'HERALD_STORE_REJECTED', retriable: false } });
        expect(await ask({ op: 'close' })).toEqual({ closed: true });
      } finally {
        await worker.terminate();
      }
    });
  });

  describe('errors', () => {
    it('a closed store rejects calls with HERALD_STORE_REJECTED; close is idempotent', async () => {
      const inbox = await openSqliteInboxStore({ path: paths.inbox });
      await inbox.close();
      await inbox.close();
      await expect(inbox.list('u1', { limit: 1 })).rejects.toMatchObject({ code: 'HERALD_STORE_REJECTED' });
      await expect(inbox.append([entry('u1', 1, notificationAt(T0))])).rejects.toMatchObject({ code: 'HERALD_STORE_REJECTED' });
      await expect(inbox.purge(T0)).rejects.toMatchObject({ code: 'HERALD_STORE_REJECTED' });
    });

    it('a write lock held past busy_timeout is HERALD_STORE_FAILED (retriable), with the driver error as cause', async () => {
      const store = track(await openSqliteIdempotencyStore({ path: paths.idempotency, busyTimeoutMs: 50 }));
      const other = new Database(paths.idempotency);
      other.exec('BEGIN IMMEDIATE');
      try {
        const err = await store.claim('t1', 'k', { id: uuidV7At(T0), published_at: new Date(T0).toISOString(), state: 'pending', fingerprint: '' }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'HERALD_STORE_FAILED', retriable: true });
        expect((err as Error).cause).toMatchObject({ code: 'SQLITE_BUSY' });
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      expect((await store.claim('t1', 'k', { id: uuidV7At(T0), published_at: new Date(T0).toISOString(), state: 'pending', fingerprint: '' })).created).toBe(true);
    });

    it('maps SQLite result codes through the table: busy retriable, constraint not', () => {
      expect(heraldCodeOfSqlite('SQLITE_BUSY')).toBe('HERALD_STORE_FAILED');
      expect(heraldCodeOfSqlite('SQLITE_BUSY_SNAPSHOT')).toBe('HERALD_STORE_FAILED');
      expect(heraldCodeOfSqlite('SQLITE_IOERR_WRITE')).toBe('HERALD_STORE_FAILED');
      expect(heraldCodeOfSqlite('SQLITE_CONSTRAINT')).toBe('HERALD_STORE_REJECTED');
      expect(heraldCodeOfSqlite('SQLITE_CONSTRAINT_PRIMARYKEY')).toBe('HERALD_STORE_REJECTED');
      expect(heraldCodeOfSqlite('SQLITE_READONLY_DBMOVED')).toBe('HERALD_STORE_REJECTED');
      expect(heraldCodeOfSqlite('SQLITE_SOMETHING_NEW')).toBe('HERALD_STORE_FAILED');
    });

    it('programmer errors pass through unmapped (never retried)', () => {
      const typeError = new TypeError('bad');
      expect(toStoreError(typeError, 'x')).toBe(typeError);
      const mapped = toStoreError(new Error('odd'), 'x');
      expect(mapped).toMatchObject({ code: 'HERALD_STORE_FAILED' });
    });

    it('a constraint violation from the driver maps to a non-retriable error', async () => {
      const store = track(await openSqliteIdempotencyStore({ path: paths.idempotency }));
      const err = await store.claim('t1', 'k', { id: 'x', published_at: 'y', state: 'bogus' as 'pending', fingerprint: '' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'HERALD_STORE_REJECTED', retriable: false });
      expect((err as Error).cause).toMatchObject({ code: expect.stringMatching(/^SQLITE_CONSTRAINT/) });
    });

    it('a row the schema refuses is an error, never reported as a replay (no INSERT OR IGNORE)', async () => {
      const inbox = track(await openSqliteInboxStore({ path: paths.inbox }));
      const bad = { ...entry('u1', 1, notificationAt(T0)), seq: 'not a number' as unknown as number };
      await expect(inbox.append([entry('u1', 0, notificationAt(T0 - 1)), bad])).rejects.toMatchObject({ code: 'HERALD_STORE_REJECTED' });
      // The whole batch rolled back.
      expect((await inbox.list('u1', { limit: 10 })).notifications).toEqual([]);
    });

    it('invalid arguments are programmer errors (RangeError / TypeError)', async () => {
      const inbox = track(await openSqliteInboxStore({ path: paths.inbox }));
      await expect(inbox.list('u1', { limit: 0 })).rejects.toBeInstanceOf(RangeError);
      await expect(inbox.list('u1', { limit: 1001 })).rejects.toBeInstanceOf(RangeError);
      await expect(inbox.list('u1', { limit: 1.5 })).rejects.toBeInstanceOf(RangeError);
      await expect(inbox.readAfter('u1', 'x', 0)).rejects.toBeInstanceOf(RangeError);
      await expect(inbox.append([entry('u1', 1, notificationAt(T0, 0, { published_at: 'yesterday' }))])).rejects.toBeInstanceOf(RangeError);
      await expect(inbox.append([entry('u1', 1, notificationAt(T0, 0, { message: null as unknown as string }))])).rejects.toBeInstanceOf(TypeError);
      expect((await inbox.list('u1', { limit: 10 })).notifications).toEqual([]);
    });
  });

  describe('helpers', () => {
    it('inbox cursor round-trips and rejects tampering', () => {
      const c = { publishedAtMs: T0, id: uuidV7At(T0, 3) };
      const text = encodeInboxCursor(c);
      expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeInboxCursor(text)).toEqual(c);
      const forged = Buffer.from(`h1.${T0 + 1}.${c.id}.00000000`).toString('base64url');
      expect(() => decodeInboxCursor(forged)).toThrow(expect.objectContaining({ code: 'HERALD_EDGE_CURSOR_INVALID' }));
      const v2 = Buffer.from(Buffer.from(text, 'base64url').toString().replace(/^h1/, 'h2')).toString('base64url');
      expect(() => decodeInboxCursor(v2)).toThrow(expect.objectContaining({ code: 'HERALD_EDGE_CURSOR_INVALID' }));
    });

    it('reads the millisecond timestamp of a UUIDv7 and nothing else', () => {
      expect(uuidV7Timestamp(uuidV7At(T0, 5))).toBe(T0);
      expect(uuidV7Timestamp('01890a5d-ac96-774b-bcce-b302099a8057')).toBe(0x01890a5dac96);
      expect(uuidV7Timestamp('01890A5D-AC96-774B-BCCE-B302099A8057')).toBe(0x01890a5dac96);
      expect(uuidV7Timestamp('01890a5d-ac96-474b-bcce-b302099a8057')).toBeNaN();
      expect(uuidV7Timestamp('garbage')).toBeNaN();
      expect(uuidV7Timestamp('')).toBeNaN();
    });
  });
});
