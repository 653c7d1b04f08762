/**
 * Rate limits of one channel provider, shared by every worker of the channel: at most
 * `perSecond` sends per second to the provider, optionally at most `perRecipientPerHour` sends to
 * one recipient per hour (e.g. SMS), and a pause when the provider answered 429 with Retry-After
 * (every worker waits it out: a 429 is never a permanent failure). Built on
 * rate-limiter-flexible: Redis on the kafka profile (the budget is global), memory on the
 * embedded profile (one process). With Redis down, each process falls back to its own memory
 * limiter with the same budget (insurance limiter), so a provider may see up to (processes ×
 * perSecond) during the outage, never an unlimited burst.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** Limits of one provider. */
export interface ProviderLimits {
  /** Sends per second to the provider (all workers together). */
  perSecond: number;
  /** Sends per recipient per hour; absent: no per-recipient limit. */
  perRecipientPerHour?: number;
}

/** Where the counters live. */
export type LimiterStore = { kind: 'memory' } | { kind: 'redis'; redis: Redis };

/** Answer of {@link ProviderRateLimiter.acquire}. */
export type Acquired = { allowed: true } | { allowed: false; /** ms until a retry may succeed */ waitMs: number; reason: 'paused' | 'provider' | 'recipient' };

function limiter(store: LimiterStore, keyPrefix: string, points: number, duration: number): RateLimiterAbstract {
  if (store.kind === 'memory') return new RateLimiterMemory({ keyPrefix, points, duration });
  return new RateLimiterRedis({
    storeClient: store.redis,
    keyPrefix,
    points,
    duration,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: `${keyPrefix}:insurance`, points, duration }),
  });
}

/** Rate limits of one provider (see the module comment). */
export class ProviderRateLimiter {
  readonly provider: string;
  readonly #sends: RateLimiterAbstract;
  readonly #recipients: RateLimiterAbstract | null;
  readonly #pause: RateLimiterAbstract;

  /** @throws RangeError for a limit that is not a positive integer */
  constructor(provider: string, limits: ProviderLimits, store: LimiterStore) {
    for (const [name, v] of Object.entries(limits)) {
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new RangeError(`${name} must be a positive integer, got ${v}`);
    }
    this.provider = provider;
    this.#sends = limiter(store, `herald:rl:${provider}:sends`, limits.perSecond, 1);
    this.#recipients = limits.perRecipientPerHour === undefined ? null : limiter(store, `herald:rl:${provider}:recipient`, limits.perRecipientPerHour, 3600);
    this.#pause = limiter(store, `herald:rl:${provider}:pause`, 1, 1);
  }

  /**
   * Takes one send to `recipient` from the budgets. Not allowed while the provider is paused, over
   * its per-second budget, or the recipient over theirs; `waitMs` says when to try again.
   * @param critical a critical send (a one-time code, a security alert) is not held back by the
   *   recipient's hourly budget, which bulk sends may have used up; it still counts against it
   */
  async acquire(recipient: string, critical = false): Promise<Acquired> {
    const paused = await this.pausedForMs();
    if (paused > 0) return { allowed: false, waitMs: paused, reason: 'paused' };
    if (this.#recipients !== null && critical) {
      await this.#recipients.penalty(recipient, 1).catch(() => {});
    } else if (this.#recipients !== null) {
      const r = await this.#take(this.#recipients, recipient);
      if (r !== 0) return { allowed: false, waitMs: r, reason: 'recipient' };
    }
    const s = await this.#take(this.#sends, 'all');
    if (s !== 0) {
      // The recipient's point was not used: give it back.
      if (this.#recipients !== null) await this.#recipients.reward(recipient, 1).catch(() => {});
      return { allowed: false, waitMs: s, reason: 'provider' };
    }
    return { allowed: true };
  }

  /**
   * The provider answered 429 (or asked to wait): every worker pauses it for `ms`, rounded up to
   * whole seconds (Retry-After has second precision; Redis expiries here are in seconds).
   */
  async pause(ms: number): Promise<void> {
    if (ms <= 0) return;
    await this.#pause.block('all', Math.ceil(ms / 1000));
  }

  /** How long the provider stays paused, ms (0 when not). */
  async pausedForMs(): Promise<number> {
    const res = await this.#pause.get('all');
    return res !== null && res.consumedPoints > 1 ? Math.max(1, res.msBeforeNext) : 0;
  }

  /** Consumes one point of `key`; 0 when allowed, else ms before the next point frees up. */
  async #take(l: RateLimiterAbstract, key: string): Promise<number> {
    try {
      await l.consume(key, 1);
      return 0;
    } catch (err) {
      if (err instanceof RateLimiterRes) return Math.max(1, err.msBeforeNext);
      throw err;
    }
  }
}
