/**
 * `herald token --user <user_id> [--ttl <seconds>]`: mints a user token with HERALD_TOKEN_SECRET
 * (env or --token-secret) and prints it alone on stdout, so `TOKEN=$(npx herald token --user ada)`
 * works; the expiry goes to stderr. Exit 0, or 2 with a message for bad arguments.
 */
import { isHeraldError } from '../core/errors.ts';
import { parseFlags, SETTINGS } from '../core/config.ts';
import { mintUserToken } from '../edge/auth/user-token.ts';
import { DEFAULT_TOKEN_TTL_SECONDS } from '../edge/routes/tokens.ts';

/** Usage line of the command. */
export const TOKEN_USAGE = 'herald token --user <user_id> [--ttl <seconds, default 3600>] [--token-secret <secret>]';

/** Runs the command. @returns the exit code */
export async function runTokenCommand(argv: readonly string[], io: { stdout(s: string): void; stderr(s: string): void }, env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  let user: string | undefined;
  let ttl = DEFAULT_TOKEN_TTL_SECONDS;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (name === '--user' || name === '--ttl') {
      const value = inline ?? argv[++i];
      if (value === undefined) {
        io.stderr(`${name} needs a value.\nUsage: ${TOKEN_USAGE}\n`);
        return 2;
      }
      if (name === '--user') user = value;
      else if (/^\d+$/.test(value)) ttl = Number(value);
      else {
        io.stderr(`--ttl must be a number of seconds, got ${JSON.stringify(value)}.\nUsage: ${TOKEN_USAGE}\n`);
        return 2;
      }
    } else rest.push(arg);
  }
  if (user === undefined) {
    io.stderr(`Which user? Usage: ${TOKEN_USAGE}\n`);
    return 2;
  }
  try {
    // Only the secret matters here (not the edge's other settings, e.g. its publisher keys).
    const { flags, positional } = parseFlags(rest);
    if (positional.length > 0 || [...flags.keys()].some((f) => f !== '--token-secret')) {
      io.stderr(`Unexpected argument(s): ${[...positional, ...[...flags.keys()].filter((f) => f !== '--token-secret')].join(' ')}\nUsage: ${TOKEN_USAGE}\n`);
      return 2;
    }
    const spec = SETTINGS.find((x) => x.key === 'tokenSecret')!;
    const raw = flags.get('--token-secret') ?? env.HERALD_TOKEN_SECRET ?? '';
    const secret = spec.parse(raw);
    if (typeof secret !== 'string') {
      io.stderr(`${raw === '' ? 'HERALD_TOKEN_SECRET is not set' : 'HERALD_TOKEN_SECRET is too short'}: set it (or --token-secret) to the secret the edges use, ${spec.accepts}.\n`);
      return 2;
    }
    const { token, claims } = await mintUserToken(secret, user, ttl);
    io.stdout(`${token}\n`);
    io.stderr(`token for ${user}, expires ${new Date(claims.expiresAtMs).toISOString()}\n`);
    return 0;
  } catch (err) {
    if (!isHeraldError(err)) throw err;
    io.stderr(`herald token: ${err.code}: ${err.message}\n`);
    return 2;
  }
}
