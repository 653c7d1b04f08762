/**
 * `herald dlq replay email|sms|push [--code CODE[,CODE...]] [--dry-run] [--json] [settings flags]`:
 * sends a channel's dead-lettered jobs again (jobs/dlq-replay.ts) and prints what it did. Runs
 * against the same settings as the channel workers (HERALD_PROFILE, brokers, stores). On the
 * kafka profile it runs beside the workers; on the embedded profile the job holds the data
 * directory, so stop it, replay, and start it again (the job sends them then).
 * Exit 0 when done, 2 for bad arguments, 1 when the log or a store failed (a rerun finishes it).
 */
import fs from 'node:fs';
import { HeraldError, isHeraldError } from '../core/errors.ts';
import { loadConfig, parseFlags } from '../core/config.ts';
import { logger } from '../core/logger.ts';
import { CHANNEL_NAMES, type ChannelName } from '../core/types.ts';
import { replayChannelDeadLetters, type DlqReplayReport } from '../jobs/dlq-replay.ts';
import { openProfile } from '../jobs/profiles/open.ts';
import { CHANNEL_SETTINGS, channelConfigured } from '../sinks/channels/providers.ts';
import { loadTopology } from '../topology/index.ts';

/** Usage of the command. */
export const DLQ_USAGE = `herald dlq replay ${CHANNEL_NAMES.join('|')} [--code CODE[,CODE...]] [--dry-run] [--json] [settings flags]`;

const DLQ_HELP = `Sends the channel's dead-lettered jobs again once the cause is fixed: those still failed, to the
user's current address, unless the user muted the channel since (critical jobs excepted).
  --code C[,C...]  only jobs whose newest letter has one of these codes (e.g. RETRIES_EXHAUSTED)
  --dry-run        count what would be replayed; change nothing
  --json           print the counts as one JSON object (and only that) on stdout
Settings (HERALD_PROFILE, HERALD_DATA_DIR, brokers, stores) as for "herald channel"; see herald --help.
`;

/** Runs the command. @returns the exit code @throws HeraldError from the settings, the log or the stores */
export async function runDlqCommand(argv: readonly string[], io: { stdout(s: string): void; stderr(s: string): void }, env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  if (argv.some((a) => a === '--help' || a === '-h')) {
    io.stdout(`Usage: ${DLQ_USAGE}\n${DLQ_HELP}`);
    return 0;
  }
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
    else if (arg.startsWith('--dry-run=') || arg.startsWith('--json=')) {
      io.stderr(`${arg.slice(0, arg.indexOf('='))} takes no value: write it alone.\nUsage: ${DLQ_USAGE}\n`);
      return 2;
    } else if (arg === '--code' || arg.startsWith('--code=')) {
      const value = arg === '--code' ? args[++i] : arg.slice('--code='.length);
      const list = value === undefined || value.startsWith('-') ? [] : value.split(',').map((c) => c.trim().toUpperCase()).filter((c) => c !== '');
      if (list.length === 0) {
        io.stderr(`--code needs one or more error codes, comma-separated (e.g. RETRIES_EXHAUSTED,HTTP_401; see --dry-run for the codes in the DLQ).\nUsage: ${DLQ_USAGE}\n`);
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
  // --json: stdout carries the report alone (pino writes its lines to stdout too).
  logger.level = json && (logger.levels.values[config.logLevel] ?? 0) < logger.levels.values.warn! ? 'warn' : config.logLevel;
  if (config.profile === 'embedded' && !fs.existsSync(config.dataDir)) {
    throw new HeraldError('HERALD_CONFIG_INVALID', `There is no data directory at ${config.dataDir}: set HERALD_DATA_DIR (--data-dir) to the job's, whose DLQ this replays.`);
  }
  const topology = await loadTopology(config.topologyFile);
  let profile;
  try {
    profile = await openProfile(config, topology);
  } catch (err) {
    if (isHeraldError(err, 'HERALD_LOG_DIR_LOCKED')) {
      throw new HeraldError('HERALD_LOG_DIR_LOCKED', `${err.message.split('. ')[0]}. On the embedded profile the job holds its data directory: stop it, replay, then start it again (it sends the replayed jobs).`);
    }
    throw err;
  }
  let report: DlqReplayReport;
  try {
    await profile.transport.ensureTopics(topology.logs.map((l) => ({ name: l.name, partitions: l.partitions, retentionMs: l.retentionMs })));
    report = await replayChannelDeadLetters(
      { topology, transport: profile.transport, statuses: profile.deliveryStatuses, userChannels: profile.userChannels, logger },
      { channel, ...(codes === undefined ? {} : { codes }), dryRun },
    );
  } finally {
    await profile.close();
  }
  const configured = channelConfigured(config, channel);
  io.stdout(json ? `${JSON.stringify({ ...report, channelConfiguredHere: configured })}\n` : describe(report, configured));
  return 0;
}

/** The human summary of a replay. */
function describe(r: DlqReplayReport, configured: boolean): string {
  const verb = r.dryRun ? 'would replay' : 'replayed';
  const codes = Object.entries(r.byCode).map(([code, n]) => `${code} ${n.letters} (${n.replayed} ${verb})`);
  const lines = [
    `herald dlq replay ${r.channel}${r.dryRun ? ' (dry run: nothing changed)' : ''}: ${r.letters} dead letter(s) in ${r.logs.join(', ')}; ${verb} ${r.replayed} to ${r.retryLog} (${r.reopened} failed status(es) ${r.dryRun ? 'to reopen' : 'reopened'}${r.requeued > 0 ? `, ${r.requeued} already reopened by an earlier replay` : ''})`,
  ];
  if (codes.length > 0) lines.push(`  by code (newest letter per send): ${codes.join(', ')}`);
  const s = r.skipped;
  lines.push(
    `  not replayed: ${s.settled} sent or settled since, ${s.address} address changed or removed, ${s.muted} muted since, ${s.expired} too old (status purged), ${s.code} other code, ${s.superseded} older letter(s) of a send replayed before${r.unreadable > 0 ? `; ${r.unreadable} record(s) of the DLQ are not channel letters` : ''}`,
  );
  if (!r.dryRun && r.replayed > 0) {
    lines.push(
      configured
        ? `  the ${r.channel} channel workers send them at the provider's pace; follow GET /notifications/{id}/deliveries or herald_channel_sends_total`
        : `  note: the ${r.channel} channel is not configured in these settings (${CHANNEL_SETTINGS[r.channel]}); the workers that send must have it`,
    );
  }
  return `${lines.join('\n')}\n`;
}
