/** The end-to-end scenario (test/scenarios/notifications.scenario.ts) on the embedded profile. */
import { startInProcess } from '../helpers/herald.ts';
import { describeNotificationScenario } from '../scenarios/notifications.scenario.ts';

describeNotificationScenario('embedded', () => startInProcess());
