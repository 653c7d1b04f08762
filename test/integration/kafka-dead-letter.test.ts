/** The DLQ scenario (test/scenarios/dead-letter.scenario.ts), unchanged, on the kafka profile. */
import { startInProcess, tempDir } from '../helpers/herald.ts';
import { isolatedTopology, kafkaBrokers } from '../helpers/services.ts';
import { describeDeadLetterScenario } from '../scenarios/dead-letter.scenario.ts';

describeDeadLetterScenario('kafka', () => {
  const dir = tempDir();
  return startInProcess({ HERALD_PROFILE: 'kafka', HERALD_KAFKA_BROKERS: kafkaBrokers(), HERALD_TOPOLOGY: isolatedTopology(dir), HERALD_DATA_DIR: dir });
});
