/** The provider rate limiter contract on Redis: one budget and one pause shared by every worker. */
import { randomUUID } from 'node:crypto';
import { afterAll } from 'vitest';
import { connectRedis } from '../../stores/redis/client.ts';
import { ProviderRateLimiter } from '../../sinks/channels/rate-limiter.ts';
import { providerRateLimiterContract } from '../contract/provider-rate-limiter.contract.ts';
import { redisUrl } from '../helpers/services.ts';

const clients = [connectRedis({ url: redisUrl() }), connectRedis({ url: redisUrl() })];
let next = 0;
afterAll(() => {
  for (const c of clients) c.disconnect();
});

// Each limiter gets the next of two connections: "two workers" really are two clients.
providerRateLimiterContract('redis', (provider, limits) => new ProviderRateLimiter(provider, limits, { kind: 'redis', redis: clients[next++ % 2]! }), () => `p-${randomUUID()}`, true);
