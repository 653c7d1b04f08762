/**
 * `herald router` start-up checks: it refuses the embedded profile and a missing HERALD_REDIS_URL
 * with HERALD_CONFIG_INVALID naming the setting, and finds the user log (name, partitions) in the
 * topology file the edges run.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.ts';
import { checkRouterConfig, userLogOf } from '../../../router/start.ts';
import { DEFAULT_TOPOLOGY_FILE, loadTopology } from '../../../topology/index.ts';

describe('herald router settings', () => {
  it('refuses the embedded profile', () => {
    expect(() => checkRouterConfig(loadConfig({ HERALD_REDIS_URL: 'redis://127.0.0.1:6379' }))).toThrow(
      expect.objectContaining({ code: 'HERALD_CONFIG_INVALID', message: expect.stringMatching(/kafka profile.*HERALD_PROFILE=kafka/) }),
    );
  });

  it('refuses to start without HERALD_REDIS_URL', () => {
    expect(() => checkRouterConfig(loadConfig({ HERALD_PROFILE: 'kafka' }))).toThrow(expect.objectContaining({ code: 'HERALD_CONFIG_INVALID', message: expect.stringContaining('set HERALD_REDIS_URL (or --redis-url)') }));
  });

  it('accepts the kafka profile with Redis', () => {
    expect(() => checkRouterConfig(loadConfig({ HERALD_PROFILE: 'kafka', HERALD_REDIS_URL: 'redis://127.0.0.1:6379' }))).not.toThrow();
  });

  it("routes by the edge stage's source log and its partition count", async () => {
    expect(userLogOf(await loadTopology(DEFAULT_TOPOLOGY_FILE), DEFAULT_TOPOLOGY_FILE)).toEqual({ name: 'herald.user', partitions: 12 });
  });
});
