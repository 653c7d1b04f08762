/**
 * The end-to-end scenario of the embedded profile (test/scenarios/notifications.scenario.ts),
 * unchanged, on the kafka profile against the real broker: fan-out in Kafka transactions, the
 * edge as a member of its consumer group. Twice: with the SQLite shared stores, and with the real
 * stores: subscriptions in two MySQL shards behind the Redis cache, ownership and presence in
 * Redis, the inbox in HBase.
 */
import { startInProcess, tempDir } from '../helpers/herald.ts';
import { dropHBaseInboxTable } from '../../stores/hbase/inbox-store.ts';
import { freshMysqlDatabases, hbaseRestUrl, kafkaProfileEnv, redisUrl, uniqueName } from '../helpers/services.ts';
import { describeNotificationScenario } from '../scenarios/notifications.scenario.ts';

describeNotificationScenario('kafka', () => {
  const dir = tempDir();
  return startInProcess(kafkaProfileEnv(dir));
});

describeNotificationScenario('kafka + MySQL + Redis + HBase', async () => {
  const dir = tempDir();
  const dbs = await freshMysqlDatabases(2);
  const table = uniqueName('inbox').replaceAll('-', '_');
  const started = await startInProcess(kafkaProfileEnv(dir, {
    HERALD_MYSQL_SHARDS: dbs.urls.join(','),
    HERALD_REDIS_URL: redisUrl(),
    HERALD_HBASE_REST_URL: hbaseRestUrl(),
    HERALD_HBASE_INBOX_TABLE: table,
  }));
  const close = started.app.close.bind(started.app);
  started.app.close = async () => {
    await close();
    await dbs.drop();
    await dropHBaseInboxTable(hbaseRestUrl(), table);
  };
  return started;
});
