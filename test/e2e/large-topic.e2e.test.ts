/** The large-topic scenario (test/scenarios/large-topic.scenario.ts) on the embedded profile. */
import path from 'node:path';
import { ROOT, startInProcess, tempDir } from '../helpers/herald.ts';
import { describeLargeTopicScenario, smallPagingTopology } from '../scenarios/large-topic.scenario.ts';

describeLargeTopicScenario('embedded', () => startInProcess({ HERALD_TOPOLOGY: smallPagingTopology(path.join(ROOT, 'jobs/notifications.topology.yaml'), tempDir()) }));
