/**
 * The large-topic scenario (test/scenarios/large-topic.scenario.ts) on the kafka profile against
 * the real broker: paged fan-out through herald.fanout-pages inside Kafka transactions. Twice:
 * with the SQLite shared stores, and with subscriptions in two MySQL shards behind the Redis cache.
 */
import { startInProcess, tempDir } from '../helpers/herald.ts';
import { freshMysqlDatabases, kafkaProfileEnv, redisUrl } from '../helpers/services.ts';
import { describeLargeTopicScenario, smallPagingTopology } from '../scenarios/large-topic.scenario.ts';

function env(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  const base = kafkaProfileEnv(dir, extra);
  return { ...base, HERALD_TOPOLOGY: smallPagingTopology(base.HERALD_TOPOLOGY!, dir) };
}

describeLargeTopicScenario('kafka', () => startInProcess(env(tempDir())));

describeLargeTopicScenario('kafka + MySQL + Redis', async () => {
  const dbs = await freshMysqlDatabases(2);
  const started = await startInProcess(env(tempDir(), { HERALD_MYSQL_SHARDS: dbs.urls.join(','), HERALD_REDIS_URL: redisUrl() }));
  const close = started.app.close.bind(started.app);
  started.app.close = async () => {
    await close();
    await dbs.drop();
  };
  return started;
});
