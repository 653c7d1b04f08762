/**
 * The protocol peers of bench/channels.bench.ts (test/helpers/smtp-peer.ts, sms-peer.ts,
 * push-peer.ts) in a child process of their own, driven over IPC. A peer in the benchmark's own
 * process would share its event loop and its CPU accounting with the sender: here the sender's
 * `process.cpuUsage()` is the sender's alone, and the peers' CPU is asked for separately (both
 * processes still share the machine's cores).
 *
 * Usage (parent): `const peers = await startChannelPeers(); … await peers.call('counts'); await peers.close();`
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PushSubscriptionJson } from '../../sinks/channels/types.ts';

const CHILD_FLAG = '--herald-channel-peers';

/** What the peers answer, by operation. */
export interface PeerOps {
  /** Where the peers listen. */
  urls: { args: void; result: { smtpUrl: string; smsUrl: string; smsToken: string; pushOrigin: string } };
  /** `n` new browser subscriptions bound to `applicationServerKey`. */
  subscribe: { args: { n: number; applicationServerKey: string }; result: PushSubscriptionJson[] };
  /** Messages accepted and refused so far, and SMTP connections opened. */
  counts: { args: void; result: { email: number; sms: number; push: number; emailRateLimited: number; smsRequests: number; pushRefused: number; smtpConnections: number; pushRefusals: string[] } };
  /** Forgets the recorded messages (memory), keeps the counters that are cumulative in the peers. */
  reset: { args: void; result: null };
  /** The peers' process CPU so far, µs. */
  cpu: { args: void; result: NodeJS.CpuUsage };
  /** Arrival times (epoch ms) of the mails accepted since the last reset. */
  emailArrivals: { args: void; result: number[] };
  /** SMTP peer: at most `perSecond` mails per sliding second (421 above), or null for none. */
  smtpRateLimit: { args: { perSecond: number | null }; result: null };
}

/** The running peers (parent side). */
export interface ChannelPeers {
  readonly pid: number;
  call<K extends keyof PeerOps>(op: K, ...args: PeerOps[K]['args'] extends void ? [] : [PeerOps[K]['args']]): Promise<PeerOps[K]['result']>;
  close(): Promise<void>;
}

type Request = { id: number; op: keyof PeerOps; args?: unknown };
type Reply = { id: number; result?: unknown; error?: string };

/** Forks this module as the peers' process and waits until the peers listen. */
export async function startChannelPeers(): Promise<ChannelPeers> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [CHILD_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  child.on('message', (m: Reply | 'ready') => {
    if (m === 'ready') return;
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (m.error !== undefined) p.reject(new Error(`channel peers: ${m.error}`));
    else p.resolve(m.result);
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`channel peers exited (${code})`));
    pending.clear();
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(`channel peers: unexpected ${JSON.stringify(m)}`))));
    child.once('exit', (code) => reject(new Error(`channel peers exited before ready (${code})`)));
  });
  return {
    pid: child.pid!,
    call(op, ...args) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, op, args: args[0] } satisfies Request);
      });
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      await exited;
    },
  };
}

/** The child: starts the three peers and answers the parent's requests. */
async function runChild(): Promise<void> {
  const { startSmtpPeer } = await import('../../test/helpers/smtp-peer.ts');
  const { startSmsPeer } = await import('../../test/helpers/sms-peer.ts');
  const { startPushPeer } = await import('../../test/helpers/push-peer.ts');
  const [smtp, sms, push] = await Promise.all([startSmtpPeer(), startSmsPeer(), startPushPeer()]);
  let emailRecorded = 0;
  let smsRecorded = 0;
  let pushRecorded = 0;
  let pushRefused = 0;
  let smsRequests = 0;

  const ops: { [K in keyof PeerOps]: (args: PeerOps[K]['args']) => PeerOps[K]['result'] } = {
    urls: () => ({ smtpUrl: smtp.url, smsUrl: sms.url, smsToken: sms.token, pushOrigin: push.origin }),
    subscribe: ({ n, applicationServerKey }) => Array.from({ length: n }, () => push.subscribe({ applicationServerKey }).subscription),
    counts: () => ({
      email: emailRecorded + smtp.received.length,
      sms: smsRecorded + sms.messages.length,
      push: pushRecorded + push.received.length,
      emailRateLimited: smtp.rateLimited,
      smsRequests: smsRequests + sms.requests.length,
      pushRefused: pushRefused + push.refused.length,
      smtpConnections: smtp.connections,
      pushRefusals: push.refused.slice(0, 3).map((r) => `${r.status} ${r.reason}`),
    }),
    reset: () => {
      emailRecorded += smtp.received.length;
      smsRecorded += sms.messages.length;
      pushRecorded += push.received.length;
      pushRefused += push.refused.length;
      smsRequests += sms.requests.length;
      smtp.received.length = 0;
      sms.messages.length = 0;
      sms.requests.length = 0;
      push.received.length = 0;
      push.refused.length = 0;
      return null;
    },
    cpu: () => process.cpuUsage(),
    emailArrivals: () => smtp.received.map((m) => m.at),
    smtpRateLimit: ({ perSecond }) => {
      smtp.setRateLimit(perSecond);
      return null;
    },
  };

  process.on('message', (m: Request) => {
    try {
      const result = (ops[m.op] as (a: unknown) => unknown)(m.args);
      process.send!({ id: m.id, result } satisfies Reply);
    } catch (err) {
      process.send!({ id: m.id, error: String(err) } satisfies Reply);
    }
  });
  process.on('disconnect', () => {
    void Promise.all([smtp.close(), sms.stop(), push.close()]).finally(() => process.exit(0));
  });
  process.send!('ready');
}

if (process.argv.includes(CHILD_FLAG)) await runChild();
