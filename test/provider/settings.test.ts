// The provider section of the settings system: the Go provider's keys and defaults, the
// paths derived from them, precedence (flags > SWITCHYARD_PROVIDER_* > the Go provider's JSON
// config file > defaults), the Go provider's flag spellings, and one SY_ERR_SETTINGS naming
// the key and where its value came from.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { envNameOf } from '../../src/config/settings/settings.js';
import { createLogger } from '../../src/observability/logger.js';
import { resolveProviderSettings } from '../../src/cli/commands/provider.js';
import {
  loadProviderConfig, provider, ProviderLayout, providerSettings, providerSettingsSection, PROVIDER_FLAG_KEYS, PROVIDER_SETTING_KEYS,
} from '../../src/models/provider/mod.js';
import { shortTempDir } from './kit.js';

/** SY_ERR_SETTINGS naming `key` (as provider.{key}) and, when given, the source. */
const settingsError = (key: string, pattern?: RegExp) => (err: Error & { code?: string }) =>
  err.code === 'SY_ERR_SETTINGS' && err.message.includes(`provider.${key}`) && (!pattern || pattern.test(err.message));

describe('provider settings section', () => {
  it('has the original\'s defaults and derives paths from them', () => {
    const s = providerSettings({ service_name: 'provider-simple' });
    const l = new ProviderLayout(s, 'provider-simple');
    assert.equal(l.socketDir, '/tmp/mistify');
    assert.equal(l.taskPriority('CPUInfo'), 50);
    assert.equal(l.taskSocketPath('CPUInfo'), '/tmp/mistify/CPUInfo/50-provider-simple.sock');
    assert.equal(l.streamDir('CPUInfo'), '/tmp/mistify/streams/CPUInfo/provider-simple');
    assert.equal(l.responseSocketPath(), '/tmp/mistify/response/provider-simple.sock');
    assert.equal(l.responseSocketPath(2), '/tmp/mistify/response/provider-simple.2.sock');
    assert.equal(l.requestTimeoutMs, 60_000, 'request_timeout 0 means one minute');
    assert.equal(l.taskTimeoutMs('CPUInfo'), 60_000);
    assert.equal(l.socketMode, 0o660);
    assert.equal(s.log_level, 'warn');
    assert.equal(s.coordinator_url, undefined);
    assert.deepEqual(s.response_hook_allow, []);
    assert.equal(s.max_open_streams, 256);
    assert.equal(l.streamIdleMs, 60_000);
  });

  it('uses per-task priority and timeout over the defaults (and over code), priority not zero-padded', () => {
    const s = providerSettings({ service_name: 's', socket_dir: '/x', default_priority: 7, default_timeout: 2, tasks: { A: { priority: 100 }, B: { timeout: 0.5 } } });
    const l = new ProviderLayout(s, 's');
    l.setCodeDefaults('A', { priority: 1, timeout: 9 });
    assert.equal(l.taskSocketPath('A'), '/x/A/100-s.sock');
    assert.equal(l.taskSocketPath('B'), '/x/B/7-s.sock');
    assert.equal(l.taskTimeoutMs('A'), 9_000, 'code\'s timeout over default_timeout');
    assert.equal(l.taskTimeoutMs('B'), 500);
  });

  it('takes flags over SWITCHYARD_PROVIDER_* over the Go provider\'s config file over defaults', async () => {
    const tmp = await shortTempDir();
    const file = join(tmp.dir, 'config.json');
    await writeFile(file, JSON.stringify({ service_name: 'from-file', socket_dir: '/file', default_priority: 10, request_timeout: 3, config_file: 'ignored', tasks: { T: { priority: 60, timeout: 1 } } }));
    const env = { SWITCHYARD_PROVIDER_CONFIG_FILE: file, SWITCHYARD_PROVIDER_SOCKET_DIR: '/env', SWITCHYARD_PROVIDER_DEFAULT_PRIORITY: '20', SWITCHYARD_PROVIDER_MAX_OPEN_STREAMS: '8' };
    const s = resolveProviderSettings({ flags: { defaultPriority: '30', stream_idle_timeout: '0.5' }, env });
    assert.equal(s.service_name, 'from-file');
    assert.equal(s.socket_dir, '/env');
    assert.equal(s.default_priority, 30);
    assert.equal(s.request_timeout, 3);
    assert.equal(s.max_open_streams, 8);
    assert.equal(s.stream_idle_timeout, 0.5);
    assert.equal(s.default_timeout, 60, 'default');
    const l = new ProviderLayout(s, s.service_name!);
    assert.equal(l.taskSocketPath('T'), '/env/T/60-from-file.sock');
    assert.equal(l.taskTimeoutMs('T'), 1_000);
    // The Go provider's spellings: --config_file, --service_name, …
    const go = resolveProviderSettings({ flags: { config_file: file, service_name: 'go', socket_dir: '/go' }, env: {} });
    assert.deepEqual([go.service_name, go.socket_dir, go.default_priority], ['go', '/go', 10]);
    await tmp.remove();
  });

  it('names the key that is wrong and where its value came from', async () => {
    const tmp = await shortTempDir();
    const v = (input: Parameters<typeof providerSettings>[0]) => () => providerSettings(input);
    assert.throws(v({ service_name: 'a/b' }), settingsError('service_name', /usable in a file name/));
    assert.throws(v({ service_name: 's', socket_dir: '' }), settingsError('socket_dir'));
    assert.throws(v({ service_name: 's', coordinator_url: 'not a url' }), settingsError('coordinator_url', /unix:\/\/ or http\(s\):\/\/ URL/));
    assert.throws(v({ service_name: 's', coordinator_url: 'ftp://svc:hunter2@x/y' }), (err: Error) => settingsError('coordinator_url')(err) && !err.message.includes('hunter2'));
    assert.throws(v({ service_name: 's', default_priority: -1 }), settingsError('default_priority', /whole number ≥ 0/));
    assert.throws(v({ service_name: 's', default_priority: 1.5 }), settingsError('default_priority'));
    assert.throws(v({ service_name: 's', default_timeout: -2 }), settingsError('default_timeout'));
    assert.throws(v({ service_name: 's', log_level: 'loud' }), settingsError('log_level', /must be a log level/));
    assert.throws(v({ service_name: 's', socket_mode: '999' }), settingsError('socket_mode', /octal/));
    assert.throws(v({ service_name: 's', max_frame_bytes: 0 }), settingsError('max_frame_bytes'));
    assert.throws(v({ service_name: 's', tasks: { T: { priority: 'high' as unknown as number } } }), settingsError('tasks.T.priority'));
    assert.throws(v({ service_name: 's', tasks: { T: { prio: 1 } as never } }), settingsError('tasks.T.prio', /not a task setting/));
    assert.throws(v({ service_name: 's', response_hook_allow: ['not a host!'] }), settingsError('response_hook_allow', /has an entry that cannot be used/));
    assert.throws(v({ service_name: 's', response_hook_allow: [3] as never }), settingsError('response_hook_allow', /list of strings/));
    assert.throws(v({ service_name: 's', max_open_streams: 0 }), settingsError('max_open_streams'));
    assert.throws(v({ service_name: 's', stream_idle_timeout: -1 }), settingsError('stream_idle_timeout'));
    providerSettings({ service_name: 's', coordinator_url: 'unix:///tmp/mistify/coordinator/coordinator.sock', log_level: 'warning' });
    // The source, spelled as the user spelled it.
    assert.throws(() => resolveProviderSettings({ flags: {}, env: { SWITCHYARD_PROVIDER_DEFAULT_TIMEOUT: 'soon' } }),
      settingsError('default_timeout', /from environment variable SWITCHYARD_PROVIDER_DEFAULT_TIMEOUT/));
    assert.throws(() => resolveProviderSettings({ flags: { default_priority: 'x' }, env: {} }), settingsError('default_priority', /from flag --default_priority/));
    assert.throws(() => resolveProviderSettings({ flags: { defaultPriority: 'x' }, env: {} }), settingsError('default_priority', /from flag --default-priority/));
    await writeFile(join(tmp.dir, 'bad-value.json'), '{"service_name": "s", "max_frame_bytes": "big"}');
    assert.throws(() => resolveProviderSettings({ flags: { config: join(tmp.dir, 'bad-value.json') }, env: {} }), settingsError('max_frame_bytes', /from provider config file .*bad-value\.json/));
    await tmp.remove();
  });

  it('names the config file that cannot be used, and reads the original\'s example as it is', async () => {
    const tmp = await shortTempDir();
    const read = (file: string) => () => resolveProviderSettings({ flags: { config: join(tmp.dir, file) }, env: {} });
    assert.throws(read('missing.json'), settingsError('config_file', /cannot be read \(ENOENT\)/));
    await writeFile(join(tmp.dir, 'bad.json'), '{"service_name": ');
    assert.throws(read('bad.json'), settingsError('config_file', /is not JSON/));
    await writeFile(join(tmp.dir, 'extra.json'), '{"service_name": "s", "socket_dri": "/x"}');
    assert.throws(read('extra.json'), (err: Error & { code?: string }) => err.code === 'SY_ERR_SETTINGS' && /unknown setting\(s\) provider\.socket_dri \(from provider config file .*extra\.json\)/.test(err.message));
    await writeFile(join(tmp.dir, 'config.json'), '{"service_name": "provider-simple", "coordinator_url": "unix:///tmp/mistify/coordinator/coordinator.sock"}');
    assert.equal(read('config.json')().coordinator_url, 'unix:///tmp/mistify/coordinator/coordinator.sock');
    // In code, as the README shows: provider(loadProviderConfig({ configFile })).
    const p = provider(loadProviderConfig({ configFile: join(tmp.dir, 'config.json'), env: { SWITCHYARD_PROVIDER_SOCKET_DIR: tmp.dir } }), { logger: createLogger({ level: 'silent' }) });
    assert.equal(p.serviceName, 'provider-simple');
    assert.equal(p.taskSocketPath('T'), join(tmp.dir, 'T', '50-provider-simple.sock'));
    await tmp.remove();
  });

  it('reads lists from the environment as comma-separated entries or JSON, and tasks as JSON', () => {
    const s = resolveProviderSettings({
      flags: {},
      env: { SWITCHYARD_PROVIDER_RESPONSE_HOOK_ALLOW: 'unix:/run/acomm, 10.0.0.0/8,hooks.example.com', SWITCHYARD_PROVIDER_TASKS: '{"T": {"priority": 70}}' },
    });
    assert.deepEqual(s.response_hook_allow, ['unix:/run/acomm', '10.0.0.0/8', 'hooks.example.com']);
    assert.deepEqual(s.tasks, { T: { priority: 70 } });
    assert.deepEqual(resolveProviderSettings({ flags: { responseHookAllow: '["unix:/a"]' }, env: {} }).response_hook_allow, ['unix:/a']);
  });

  it('keeps the documented environment names and describes every key', () => {
    for (const key of PROVIDER_FLAG_KEYS) assert.equal(envNameOf('provider', key), `SWITCHYARD_PROVIDER_${key.toUpperCase()}`);
    assert.equal(providerSettingsSection.name, 'provider');
    for (const key of PROVIDER_SETTING_KEYS) {
      const description = (providerSettingsSection.schema.shape as Record<string, { description?: string }>)[key]?.description;
      assert.ok(description && description.length > 20, `${key} has a description`);
    }
  });
});
