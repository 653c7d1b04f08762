/**
 * `herald dlq replay email|sms|push [--code CODE[,CODE...]] [--dry-run] [--json] [settings flags]`:
 * sends a channel's dead-lettered jobs again (jobs/dlq-replay.ts) and prints what it did. Runs
 * against the same settings as the channel workers (HERALD_PROFILE, brokers, stores). On the
 * kafka profile it runs beside the workers; on the embedded profile the job holds the data
 * directory, so stop it, replay, and start it again (the job sends them then).
 * Exit 0 when done, 2 for bad arguments, 1 when the log or a store failed (a rerun finishes it).
 */
import { loadConfig, parseFlags } from '../core/config.ts';
import { logger } from '../core/logger.ts';
import { CHANNEL_NAMES, type ChannelName } from '../core/types.ts';
import { replayChannelDeadLetters, type DlqReplayReport } from '../jobs/dlq-replay.ts';
import { openProfile } from '../jobs/profiles/open.ts';
import { loadTopology } from '../topology/index.ts';

/** Usage of the command. */
export const DLQ_USAGE = `herald dlq replay ${CHANNEL_NAMES.join('|')} [--code CODE[,CODE...]] [--dry-run] [--json] [settings flags]`;

/** Runs the command. @returns the exit code @throws HeraldError from the settings, the log or the stores */
export async function runDlqCommand(argv: readonly string[], io: { stdout(s: string): void; stderr(s: string): void }, env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  const [action, channelArg, ...args] = argv;
  if (action !== 'replay') {
    io.stderr(`"herald dlq" does one thing: replay a channel's dead letters.\nUsage: ${DLQ_USAGE}\n`);
    return 2;
  }
  if (channelArg === undefined || !(CHANNEL_NAMES as readonly string[]).includes(channelArg)) {
    io.stderr(`Which channel? Got ${JSON.stringify(channelArg ?? '')}.\nUsage: ${DLQ_USAGE}\n`);
    return 2;
  }
  const channel = channelArg as ChannelName;
  let codes: string[] | undefined;
  let dryRun = false;
  let json = false;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--dry-run') dryRun = true;
    else if (arg === '--json') json = true;
    else if (arg === '--code' || arg.startsWith('--code=')) {
      const value = arg === '--code' ? args[++i] : arg.slice('--code='.length);
      const list = (value ?? '').split(',').map((c) => c.trim()).filter((c) => c !== '');
      if (list.length === 0) {
        io.stderr(`--code needs one or more error codes, comma-separated (e.g. RETRIES_EXHAUSTED,HTTP_401).\nUsage: ${DLQ_USAGE}\n`);
        return 2;
      }
      codes = [...(codes ?? []), ...list];
    } else rest.push(arg);
  }
  const { flags, positional } = parseFlags(rest);
  if (positional.length > 0) {
    io.stderr(`Unexpected argument(s): ${positional.join(' ')}\nUsage: ${DLQ_USAGE}\n`);
    return 2;
  }
  const config = loadConfig(env, flags);
  logger.level = config.logLevel;
  const topology = await loadTopology(config.topologyFile);
  const profile = await openProfile(config, topology);
  let report: DlqReplayReport;
  try {
    await profile.transport.ensureTopics(topology.logs.map((l) => ({ name: l.name, partitions: l.partitions, retentionMs: l.retentionMs })));
    report = await replayChannelDeadLetters(
      { topology, transport: profile.transport, statuses: profile.deliveryStatuses, logger },
      { channel, ...(codes === undefined ? {} : { codes }), dryRun },
    );
  } finally {
    await profile.close();
  }
  io.stdout(json ? `${JSON.stringify(report)}\n` : describe(report));
  return 0;
}

/** The human summary of a replay. */
function describe(r: DlqReplayReport): string {
  const verb = r.dryRun ? 'would replay' : 'replayed';
  const codes = Object.entries(r.byCode)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([code, n]) => `${code} ${n.letters} (${n.replayed} ${verb})`);
  const lines = [
    `herald dlq replay ${r.channel}${r.dryRun ? ' (dry run: nothing changed)' : ''}: ${r.letters} dead letter(s) in ${r.logs.join(', ')}; ${verb} ${r.replayed} to ${r.retryLog} (${r.reopened} failed status(es) ${r.dryRun ? 'to reopen' : 'reopened'})`,
  ];
  if (codes.length > 0) lines.push(`  by code: ${codes.join(', ')}`);
  const s = r.skipped;
  lines.push(`  not replayed: ${s.settled} sent or settled since, ${s.expired} too old (status purged), ${s.duplicate} repeated, ${s.code} other code${r.unreadable > 0 ? `; ${r.unreadable} record(s) of the DLQ are not channel letters` : ''}`);
  if (!r.dryRun && r.replayed > 0) lines.push(`  the ${r.channel} channel workers send them at the provider's pace; follow GET /notifications/{id}/deliveries or herald_channel_sends_total`);
  return `${lines.join('\n')}\n`;
}
