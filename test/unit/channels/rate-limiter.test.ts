/** The provider rate limiter contract on the memory store (embedded profile, one process). */
import { randomUUID } from 'node:crypto';
import { ProviderRateLimiter } from '../../../sinks/channels/rate-limiter.ts';
import { providerRateLimiterContract } from '../../contract/provider-rate-limiter.contract.ts';

// Memory limiters are per instance: "shared" only holds for Redis.
providerRateLimiterContract('memory', (provider, limits) => new ProviderRateLimiter(provider, limits, { kind: 'memory' }), () => `p-${randomUUID()}`, false);
