/**
 * The end-to-end scenario of the embedded profile (test/scenarios/notifications.scenario.ts),
 * unchanged, on the kafka profile against the real broker: fan-out in Kafka transactions, the
 * edge as a member of its consumer group.
 */
import { startInProcess, tempDir } from '../helpers/herald.ts';
import { isolatedTopology, kafkaBrokers } from '../helpers/services.ts';
import { describeNotificationScenario } from '../scenarios/notifications.scenario.ts';

describeNotificationScenario('kafka', () => {
  const dir = tempDir();
  return startInProcess({ HERALD_PROFILE: 'kafka', HERALD_KAFKA_BROKERS: kafkaBrokers(), HERALD_TOPOLOGY: isolatedTopology(dir), HERALD_DATA_DIR: dir });
});
