/** The DLQ scenario (test/scenarios/dead-letter.scenario.ts) on the embedded profile. */
import { startInProcess } from '../helpers/herald.ts';
import { describeDeadLetterScenario } from '../scenarios/dead-letter.scenario.ts';

describeDeadLetterScenario('embedded', () => startInProcess());
