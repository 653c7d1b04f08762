/**
 * Behaviour of ProviderRateLimiter, the same for every store (memory on the embedded profile,
 * Redis shared by every worker on the kafka profile). `make` builds a limiter with a unique
 * provider name each call; limiters built with the same name share one budget (two workers).
 */
import { describe, expect, it } from 'vitest';
import type { ProviderLimits, ProviderRateLimiter } from '../../sinks/channels/rate-limiter.ts';

export function providerRateLimiterContract(store: string, make: (provider: string, limits: ProviderLimits) => ProviderRateLimiter, unique: () => string, shared: boolean): void {
  describe(`ProviderRateLimiter contract: ${store}`, () => {
    it('allows perSecond sends, then says how long to wait (< 1 s), then allows again', async () => {
      const l = make(unique(), { perSecond: 5 });
      const answers = [];
      for (let i = 0; i < 7; i++) answers.push(await l.acquire(`u${i}`));
      expect(answers.slice(0, 5).every((a) => a.allowed)).toBe(true);
      for (const a of answers.slice(5)) {
        expect(a).toMatchObject({ allowed: false, reason: 'provider' });
        if (!a.allowed) expect(a.waitMs).toBeGreaterThan(0), expect(a.waitMs).toBeLessThanOrEqual(1_000);
      }
      const wait = (answers[6] as { waitMs: number }).waitMs;
      await new Promise((r) => setTimeout(r, wait + 50));
      expect((await l.acquire('later')).allowed).toBe(true);
    });

    it('a pause (429 Retry-After) stops every send until it ends (whole seconds), then sends resume', async () => {
      const l = make(unique(), { perSecond: 100 });
      await l.pause(400); // rounded up to 1 s
      const a = await l.acquire('u1');
      expect(a).toMatchObject({ allowed: false, reason: 'paused' });
      if (!a.allowed) expect(a.waitMs).toBeGreaterThan(500);
      expect(await l.pausedForMs()).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 1_100));
      expect(await l.pausedForMs()).toBe(0);
      expect((await l.acquire('u1')).allowed).toBe(true);
    });

    it('limits one recipient per hour without using the provider budget for refused sends', async () => {
      const l = make(unique(), { perSecond: 3, perRecipientPerHour: 2 });
      expect((await l.acquire('+15550000001')).allowed).toBe(true);
      expect((await l.acquire('+15550000001')).allowed).toBe(true);
      const third = await l.acquire('+15550000001');
      expect(third).toMatchObject({ allowed: false, reason: 'recipient' });
      if (!third.allowed) expect(third.waitMs).toBeGreaterThan(3_500_000);
      // The provider still has its third point this second for someone else.
      expect((await l.acquire('+15550000002')).allowed).toBe(true);
    });

    it('refuses limits that are not positive integers', () => {
      expect(() => make(unique(), { perSecond: 0 })).toThrow(RangeError);
      expect(() => make(unique(), { perSecond: 1, perRecipientPerHour: 1.5 })).toThrow(RangeError);
    });

    if (shared) {
      it('two workers share one budget and see each other\'s pause', async () => {
        const name = unique();
        const a = make(name, { perSecond: 6 });
        const b = make(name, { perSecond: 6 });
        let allowed = 0;
        for (let i = 0; i < 6; i++) {
          if ((await a.acquire(`a${i}`)).allowed) allowed++;
          if ((await b.acquire(`b${i}`)).allowed) allowed++;
        }
        expect(allowed).toBe(6);
        await new Promise((r) => setTimeout(r, 1_050));
        await a.pause(300);
        expect(await b.acquire('x')).toMatchObject({ allowed: false, reason: 'paused' });
      });
    }
  });
}
