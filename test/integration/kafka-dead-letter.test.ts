/** The DLQ scenario (test/scenarios/dead-letter.scenario.ts), unchanged, on the kafka profile. */
import { startInProcess, tempDir } from '../helpers/herald.ts';
import { kafkaProfileEnv } from '../helpers/services.ts';
import { describeDeadLetterScenario } from '../scenarios/dead-letter.scenario.ts';

describeDeadLetterScenario('kafka', () => {
  const dir = tempDir();
  return startInProcess(kafkaProfileEnv(dir));
});
