/**
 * `herald topology <validate|explain|graph> [FILE] [--json]`: checks and describes a topology
 * file without starting anything. FILE defaults to jobs/notifications.topology.yaml.
 */
import { relative } from 'node:path';
import { isHeraldError } from '../core/errors.ts';
import { DEFAULT_TOPOLOGY_FILE, explainTopology, loadTopology, topologyToMermaid } from '../topology/index.ts';
import type { CompiledTopology } from '../topology/index.ts';

/** Where the command writes; `herald` passes process.stdout / process.stderr writers. */
export interface CommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const USAGE = `Usage: herald topology <command> [FILE] [--json]

Commands:
  validate FILE          check FILE; prints OK and a summary, or every problem with its line (exit 1)
  explain FILE [--json]  print the stages, consumer groups, log topics, partitions, operators and sinks;
                         --json prints the compiled topology as JSON
  graph FILE             print the topology as a Mermaid flowchart (paste into any Mermaid viewer)

FILE defaults to jobs/notifications.topology.yaml.
Exit codes: 0 valid, 1 invalid or not found, 2 usage error.
`;

function summary(t: CompiledTopology): string {
  const stages = t.stages.map((s) => `${s.name} (${s.consumerGroup}, ${s.source.log} × ${s.source.partitions})`).join(', ');
  return `topology "${t.name}": ${t.stages.length} stage${t.stages.length === 1 ? '' : 's'} [${stages}], ${t.logs.length} log topic${t.logs.length === 1 ? '' : 's'}`;
}

/**
 * Runs one `herald topology` subcommand. `argv` is what follows `topology` on the command line.
 * Returns the exit code: 0 success, 1 invalid or missing topology, 2 usage error. Unexpected
 * errors (not HeraldError) are rethrown.
 */
export async function runTopologyCommand(argv: string[], io: CommandIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout)(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(USAGE);
    return 0;
  }
  const json = rest.includes('--json');
  const unknownFlags = rest.filter((a) => a.startsWith('-') && a !== '--json');
  const files = rest.filter((a) => !a.startsWith('-'));
  if (!['validate', 'explain', 'graph'].includes(command)) {
    io.stderr(`Unknown topology command "${command}".\n\n${USAGE}`);
    return 2;
  }
  if (unknownFlags.length > 0 || files.length > 1 || (json && command !== 'explain')) {
    const what = unknownFlags.length > 0 ? `unknown option ${unknownFlags.join(' ')}` : files.length > 1 ? `one FILE expected, got ${files.length}` : '--json applies to explain only';
    io.stderr(`herald topology ${command}: ${what}.\n\n${USAGE}`);
    return 2;
  }
  const file = files[0] ?? relative(process.cwd(), DEFAULT_TOPOLOGY_FILE);
  let topology: CompiledTopology;
  try {
    topology = await loadTopology(file);
  } catch (err) {
    if (!isHeraldError(err, 'HERALD_TOPOLOGY_INVALID') && !isHeraldError(err, 'HERALD_TOPOLOGY_NOT_FOUND')) throw err;
    io.stderr(`${err.code}: ${err.message}\n`);
    return 1;
  }
  if (command === 'validate') io.stdout(`OK ${file}: ${summary(topology)}\n`);
  else if (command === 'graph') io.stdout(topologyToMermaid(topology));
  else io.stdout(json ? `${JSON.stringify(topology, null, 2)}\n` : explainTopology(topology));
  return 0;
}
