/**
 * Checks on the `logs` and `stages` sections and on names: duplicate names, duplicate consumer
 * groups, dead-letter settings.
 */
import { suggest } from './issues.ts';
import type { Entry, ValidationContext } from './validate-context.ts';
import { TOPOLOGY_DEFAULTS } from './defaults.ts';

/** The consumer group of a stage: its `consumer_group`, else `herald.<stage name>`. */
export function consumerGroupOf(stage: { name?: string | undefined; consumer_group?: string | undefined }): string | undefined {
  if (stage.consumer_group !== undefined) return stage.consumer_group;
  return stage.name === undefined ? undefined : `${TOPOLOGY_DEFAULTS.stage.consumerGroupPrefix}${stage.name}`;
}

function checkDuplicateNames<T extends { name: string }>(ctx: ValidationContext, section: string, noun: string, entries: Entry<T>[]): void {
  const first = new Map<string, number>();
  for (const entry of entries) {
    const name = entry.value.name;
    if (name === undefined) continue;
    const earlier = first.get(name);
    if (earlier === undefined) first.set(name, entry.index);
    else ctx.report(`duplicate-${noun}`, [section, entry.index, 'name'], `${noun} name "${name}" is used twice (first by ${section}[${earlier}])`, 'give each one a unique name, or remove one');
  }
}

/** Names are unique within logs, within stages and within nodes. */
export function checkNames(ctx: ValidationContext): void {
  checkDuplicateNames(ctx, 'logs', 'log', ctx.logs);
  checkDuplicateNames(ctx, 'stages', 'stage', ctx.stages);
  checkDuplicateNames(ctx, 'nodes', 'node', ctx.nodes);
}

/** Consumer groups are unique; dead-letter logs are declared; `dead-letter` has a DLQ. */
export function checkStages(ctx: ValidationContext): void {
  const logNames = [...ctx.logByName.keys()];
  const groups = new Map<string, string>();
  for (const stage of ctx.stages) {
    const { name, dead_letter_log: dlq, error_policy: policy } = stage.value;
    const group = consumerGroupOf(stage.value);
    if (group !== undefined && name !== undefined) {
      const other = groups.get(group);
      const at = stage.value.consumer_group === undefined ? 'name' : 'consumer_group';
      if (other === undefined) groups.set(group, name);
      else ctx.report('duplicate-consumer-group', ['stages', stage.index, at], `consumer group "${group}" is also used by stage "${other}"`, 'give each stage its own consumer_group: two stages in one group would steal each other\'s partitions');
    }
    if (dlq !== undefined && !ctx.logByName.has(dlq)) {
      ctx.report('dead-letter-log-undeclared', ['stages', stage.index, 'dead_letter_log'], `dead-letter log "${dlq}" is not declared under logs`, suggest(dlq, logNames, 'declared logs', { alternative: 'declare it under logs' }));
    }
    if (policy === 'dead-letter' && dlq === undefined && stage.raw['dead_letter_log'] === undefined) {
      const candidate = logNames.find((l) => /dlq|dead/i.test(l));
      ctx.report('dead-letter-without-dlq', ['stages', stage.index, 'error_policy'], 'error_policy is dead-letter but the stage names no dead_letter_log', `add dead_letter_log: ${candidate ?? '<a log declared under logs, e.g. herald.dlq>'}, or choose error_policy continue or fail`);
    }
  }
}
