import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig, parseFlags } from '../../../core/config.ts';
import { HeraldError } from '../../../core/errors.ts';
import { ROOT } from '../../helpers/herald.ts';

function configError(fn: () => unknown): HeraldError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HeraldError);
    expect((err as HeraldError).code).toBe('HERALD_CONFIG_INVALID');
    return err as HeraldError;
  }
  throw new Error('expected HERALD_CONFIG_INVALID');
}

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({}, new Map(), '/srv/herald');
    expect(c).toMatchObject({ port: 8080, host: '127.0.0.1', profile: 'embedded', retentionDays: 7, maxMessageBytes: 4096, ssePingMs: 15_000 });
    expect(c.dataDir).toBe(path.resolve('/srv/herald', DEFAULTS.dataDir));
    expect(c.topologyFile).toBe(path.join(ROOT, 'jobs/notifications.topology.yaml')); // shipped with Herald
    expect(loadConfig({ HERALD_TOPOLOGY: 'my.yaml' }, new Map(), '/srv/herald').topologyFile).toBe('/srv/herald/my.yaml');
  });

  it('reads env vars, and flags override them', () => {
    const { flags } = parseFlags(['--port', '9000', '--data-dir=/tmp/x']);
    const c = loadConfig({ PORT: '7000', HERALD_RETENTION_DAYS: '3', HERALD_MAX_MESSAGE_BYTES: '100' }, flags, '/');
    expect(c.port).toBe(9000);
    expect(c.dataDir).toBe('/tmp/x');
    expect(c.retentionDays).toBe(3);
    expect(c.maxMessageBytes).toBe(100);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['HERALD_PROFILE', 'cloud'],
    ['HERALD_RETENTION_DAYS', '0'],
    ['HERALD_RETENTION_DAYS', '1.5'],
    ['HERALD_MAX_MESSAGE_BYTES', '-1'],
    ['HERALD_DATA_DIR', '  '],
    ['HERALD_TOPOLOGY', ''],
    ['HERALD_SSE_PING_MS', '5'],
    ['HERALD_LOG_LEVEL', 'loud'],
    ['HERALD_DURABILITY', 'disk'],
  ])('rejects %s=%j naming the setting', (name, value) => {
    const err = configError(() => loadConfig({ [name]: value }));
    expect(err.message).toContain(name);
    expect(err.message).toContain(JSON.stringify(value));
  });

  it('reports every invalid setting at once', () => {
    const err = configError(() => loadConfig({ PORT: 'x', HERALD_RETENTION_DAYS: 'y' }));
    expect(err.details).toHaveLength(2);
  });

  it('names the flag when the flag is wrong', () => {
    const { flags } = parseFlags(['--port=nope']);
    expect(configError(() => loadConfig({}, flags)).message).toContain('--port');
  });

  it('rejects unknown flags and flags without a value', () => {
    configError(() => parseFlags(['--prot', '1']));
    configError(() => parseFlags(['--port']));
  });

  it('ignores prototype keys in the environment', () => {
    const env = JSON.parse('{"__proto__": {"port": 1}, "PORT": "8081"}') as Record<string, string>;
    expect(loadConfig(env).port).toBe(8081);
  });

  it('takes the kafka profile settings, defaulting the shared store dir under the data dir', () => {
    const c = loadConfig({ HERALD_PROFILE: 'kafka', HERALD_KAFKA_BROKERS: 'k1:9092,k2:9092', HERALD_DATA_DIR: '/srv/h/job-1', HERALD_ADVERTISED_URL: 'http://10.0.0.5:8080' }, new Map(), '/');
    expect(c).toMatchObject({ profile: 'kafka', kafkaBrokers: 'k1:9092,k2:9092', sharedStoreDir: '/srv/h/job-1/shared', advertisedUrl: 'http://10.0.0.5:8080' });
    expect(loadConfig({ HERALD_SHARED_STORE_DIR: 'shared' }, new Map(), '/srv').sharedStoreDir).toBe('/srv/shared');
    expect(() => loadConfig({ HERALD_KAFKA_BROKERS: 'no-port' })).toThrow(/HERALD_KAFKA_BROKERS/);
    expect(() => loadConfig({ HERALD_ADVERTISED_URL: 'http://x/path' })).toThrow(/HERALD_ADVERTISED_URL/);
    expect(() => loadConfig({ HERALD_PROFILE: 'cloud' })).toThrow(/"kafka"/);
  });
});

