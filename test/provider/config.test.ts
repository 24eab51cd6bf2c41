// Provider configuration: the original's keys and defaults, file < env < flags, and
// validate() errors that name the key and say how to fix it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadProviderConfig, ProviderConfig, providerEnvName } from '../../src/models/provider/mod.js';
import { shortTempDir } from './kit.js';

const configError = (key: string, pattern?: RegExp) => (err: Error & { code?: string }) =>
  err.code === 'SY_ERR_PROVIDER_CONFIG' && err.message.includes(`provider setting "${key}"`) && (!pattern || pattern.test(err.message));

describe('provider config', () => {
  it('has the original\'s defaults and derives paths from them', () => {
    const c = new ProviderConfig({ service_name: 'provider-simple' }).validate();
    assert.equal(c.socketDir, '/tmp/mistify');
    assert.equal(c.taskPriority('CPUInfo'), 50);
    assert.equal(c.taskSocketPath('CPUInfo'), '/tmp/mistify/CPUInfo/50-provider-simple.sock');
    assert.equal(c.streamDir('CPUInfo'), '/tmp/mistify/streams/CPUInfo/provider-simple');
    assert.equal(c.responseSocketPath, '/tmp/mistify/response/provider-simple.sock');
    assert.equal(c.requestTimeoutMs, 60_000, 'request_timeout 0 means one minute');
    assert.equal(c.taskTimeoutMs('CPUInfo'), 60_000);
    assert.equal(c.socketMode, 0o660);
    assert.equal(c.logLevel, 'warn');
    assert.equal(c.coordinatorUrl, undefined);
  });

  it('uses per-task priority and timeout over the defaults, priority not zero-padded', () => {
    const c = new ProviderConfig({ service_name: 's', socket_dir: '/x', default_priority: 7, default_timeout: 2, tasks: { A: { priority: 100 }, B: { timeout: 0.5 } } }).validate();
    assert.equal(c.taskSocketPath('A'), '/x/A/100-s.sock');
    assert.equal(c.taskSocketPath('B'), '/x/B/7-s.sock');
    assert.equal(c.taskTimeoutMs('A'), 2_000);
    assert.equal(c.taskTimeoutMs('B'), 500);
  });

  it('merges the JSON file, SWITCHYARD_PROVIDER_* and flags, strongest last', async () => {
    const tmp = await shortTempDir();
    const file = join(tmp.dir, 'config.json');
    await writeFile(file, JSON.stringify({ service_name: 'from-file', socket_dir: '/file', default_priority: 10, request_timeout: 3, tasks: { T: { priority: 60, timeout: 1 } } }));
    const env = { [providerEnvName('config_file')]: file, SWITCHYARD_PROVIDER_SOCKET_DIR: '/env', SWITCHYARD_PROVIDER_DEFAULT_PRIORITY: '20' };
    const c = loadProviderConfig({ env, flags: { default_priority: '30' } });
    assert.equal(c.serviceName, 'from-file');
    assert.equal(c.socketDir, '/env');
    assert.equal(c.data.default_priority, 30);
    assert.equal(c.requestTimeoutMs, 3_000);
    assert.equal(c.taskSocketPath('T'), '/env/T/60-from-file.sock');
    assert.equal(c.taskTimeoutMs('T'), 1_000);
    await tmp.remove();
  });

  it('names the key that is wrong', async () => {
    const v = (input: ConstructorParameters<typeof ProviderConfig>[0]) => () => new ProviderConfig(input).validate();
    assert.throws(v({}), configError('service_name', /is missing; set --service-name or SWITCHYARD_PROVIDER_SERVICE_NAME/));
    assert.throws(v({ service_name: 'a/b' }), configError('service_name', /cannot be part of a file name/));
    assert.throws(v({ service_name: 's', socket_dir: '' }), configError('socket_dir'));
    assert.throws(v({ service_name: 's', coordinator_url: 'not a url' }), configError('coordinator_url', /not a unix:\/\/ or http\(s\):\/\/ URL/));
    assert.throws(v({ service_name: 's', coordinator_url: 'ftp://x/y' }), configError('coordinator_url'));
    assert.throws(v({ service_name: 's', coordinator_url: 'ftp://svc:hunter2@x/y' }), (err: Error) => configError('coordinator_url')(err) && !err.message.includes('hunter2'));
    assert.throws(v({ service_name: 's', default_priority: -1 }), configError('default_priority', /whole number ≥ 0/));
    assert.throws(v({ service_name: 's', default_priority: 1.5 }), configError('default_priority'));
    assert.throws(v({ service_name: 's', default_timeout: -2 }), configError('default_timeout'));
    assert.throws(v({ service_name: 's', log_level: 'loud' }), configError('log_level', /use one of/));
    assert.throws(v({ service_name: 's', socket_mode: '999' }), configError('socket_mode'));
    assert.throws(v({ service_name: 's', max_frame_bytes: 0 }), configError('max_frame_bytes'));
    assert.throws(v({ service_name: 's', tasks: { T: { priority: 'high' as unknown as number } } }), configError('tasks.T.priority'));
    assert.throws(v({ service_name: 's', tasks: { T: { prio: 1 } as never } }), configError('tasks.T.prio', /not a task setting/));
    new ProviderConfig({ service_name: 's', coordinator_url: 'unix:///tmp/mistify/coordinator/coordinator.sock', log_level: 'warning' }).validate();
  });

  it('reads the hardening settings: response_hook_allow as a list or comma-separated, stream bounds', () => {
    const d = new ProviderConfig({ service_name: 's' }).validate();
    assert.deepEqual(d.responseHookAllow, []);
    assert.equal(d.maxOpenStreams, 256);
    assert.equal(d.streamIdleMs, 60_000);
    const env = { SWITCHYARD_PROVIDER_SERVICE_NAME: 's', SWITCHYARD_PROVIDER_RESPONSE_HOOK_ALLOW: 'unix:/run/acomm, 10.0.0.0/8,hooks.example.com', SWITCHYARD_PROVIDER_MAX_OPEN_STREAMS: '8' };
    const c = loadProviderConfig({ env, flags: { stream_idle_timeout: '0.5' } });
    assert.deepEqual(c.responseHookAllow, ['unix:/run/acomm', '10.0.0.0/8', 'hooks.example.com']);
    assert.equal(c.maxOpenStreams, 8);
    assert.equal(c.streamIdleMs, 500);
    const v = (input: ConstructorParameters<typeof ProviderConfig>[0]) => () => new ProviderConfig(input).validate();
    assert.throws(v({ service_name: 's', response_hook_allow: ['not a host!'] }), configError('response_hook_allow', /has an entry that cannot be used/));
    assert.throws(v({ service_name: 's', response_hook_allow: [3] as never }), configError('response_hook_allow', /list of strings/));
    assert.throws(v({ service_name: 's', max_open_streams: 0 }), configError('max_open_streams'));
    assert.throws(v({ service_name: 's', stream_idle_timeout: -1 }), configError('stream_idle_timeout'));
  });

  it('names the file or the environment value that is wrong', async () => {
    const tmp = await shortTempDir();
    assert.throws(() => loadProviderConfig({ configFile: join(tmp.dir, 'missing.json'), env: {} }), configError('config_file', /cannot be read \(ENOENT\)/));
    await writeFile(join(tmp.dir, 'bad.json'), '{"service_name": ');
    assert.throws(() => loadProviderConfig({ configFile: join(tmp.dir, 'bad.json'), env: {} }), configError('config_file', /is not JSON/));
    await writeFile(join(tmp.dir, 'extra.json'), '{"service_name": "s", "socket_dri": "/x"}');
    assert.throws(() => loadProviderConfig({ configFile: join(tmp.dir, 'extra.json'), env: {} }), configError('socket_dri', /is not a provider setting/));
    assert.throws(() => loadProviderConfig({ env: { SWITCHYARD_PROVIDER_SERVICE_NAME: 's', SWITCHYARD_PROVIDER_DEFAULT_TIMEOUT: 'soon' } }), configError('default_timeout', /not a number/));
    // The original's example config.json loads as it is.
    await writeFile(join(tmp.dir, 'config.json'), '{"service_name": "provider-simple", "coordinator_url": "unix:///tmp/mistify/coordinator/coordinator.sock"}');
    assert.equal(loadProviderConfig({ configFile: join(tmp.dir, 'config.json'), env: {} }).coordinatorUrl, 'unix:///tmp/mistify/coordinator/coordinator.sock');
    await tmp.remove();
  });
});
