// The api settings section: one precedence (flags > environment > settings file > the bus
// config > defaults), Lightbus's own names (LIGHTBUS_SERVICE_NAME, _PROCESS_NAME, _CONFIG,
// the bus config file) and Switchyard's documented ones (SWITCHYARD_BUS_CONFIG, ...), and
// every mistake as one SY_ERR_SETTINGS naming the key and where it came from.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { envLayer, fileLayer, resolveSettings } from '../../src/config/settings/settings.js';
import { apiSettingsFromCli } from '../../src/cli/api-settings.js';
import { apiSettingsSection } from '../../src/models/api/settings.js';
import { resolveApiSettings } from '../../src/models/api/settings-sources.js';
import { busOptionsOfUrl, busUrlWith } from '../../src/transports/bus/bus-url.js';

let dir: string;
let busYaml: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sy-api-settings-'));
  busYaml = join(dir, 'bus.yaml');
  await writeFile(busYaml, [
    'service_name: from_file',
    'process_name: file-proc',
    'bus: { schema: { ttl: 30 } }',
    'apis:',
    '  default: { rpc_timeout: 7, event_transport: { redis: { url: "redis://127.0.0.1:6399/2", stream_use: per_event, batch_size: 4 } } }',
    '  shop.orders: { rpc_timeout: 2, validate: false }',
    'plugins: { internal_state: { enabled: true, ping_interval: 5 } }',
  ].join('\n'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('the api settings section', () => {
  it('defaults to Lightbus\'s: {friendly} service, {random4} process, rpc_timeout 5, the embedded default', async () => {
    const s = await apiSettingsFromCli({}, { env: {} });
    assert.equal(s.serviceName, '{friendly}');
    assert.equal(s.processName, '{random4}');
    assert.equal(s.transport, undefined, 'the runner\'s default (memory) applies');
    assert.deepEqual(s.apis, {});
    assert.equal(s.schemaTtl, 60);
    assert.deepEqual(s.plugins.internalState, { enabled: false, pingEnabled: true, pingInterval: 60 });
  });

  it('reads the bus config (Lightbus\'s file) as a source: names, per-API settings, the transport with its Lightbus settings, plugins', async () => {
    const s = await apiSettingsFromCli({ busConfig: busYaml }, { env: {} });
    assert.equal(s.serviceName, 'from_file');
    assert.equal(s.processName, 'file-proc');
    assert.equal(s.schemaTtl, 30);
    assert.equal(s.transport, 'redis://127.0.0.1:6399/2?stream_use=per_event');
    assert.deepEqual(busOptionsOfUrl(s.transport), { url: 'redis://127.0.0.1:6399/2', options: { streamUse: 'per_event' } });
    assert.equal(s.apis.default!.rpcTimeout, 7);
    assert.equal(s.apis.default!.prefetch, 4);
    assert.equal(s.apis['shop.orders']!.rpcTimeout, 2);
    assert.deepEqual(s.apis['shop.orders']!.validate, { outgoing: false, incoming: false });
    assert.equal(s.apis['shop.orders']!.prefetch, 4, 'a named API without its own event transport takes default\'s listener settings');
    assert.equal(s.apis['shop.orders']!.eventFireTimeout, 5, 'but not default\'s API settings (Lightbus: no inheritance)');
    assert.deepEqual(s.plugins.internalState, { enabled: true, pingEnabled: true, pingInterval: 5 });
  });

  it('one precedence: flags > environment (documented names, then SWITCHYARD_API_*, then LIGHTBUS_*) > bus config > defaults', async () => {
    const env = { LIGHTBUS_CONFIG: busYaml, LIGHTBUS_SERVICE_NAME: 'lb', LIGHTBUS_PROCESS_NAME: 'lb-proc' };
    assert.equal((await apiSettingsFromCli({}, { env })).serviceName, 'lb', 'LIGHTBUS_SERVICE_NAME over the file');
    assert.equal((await apiSettingsFromCli({}, { env })).processName, 'lb-proc');
    assert.equal((await apiSettingsFromCli({}, { env })).schemaTtl, 30, 'LIGHTBUS_CONFIG names the bus config');
    const ours = { ...env, SWITCHYARD_API_SERVICE_NAME: 'api-env' };
    assert.equal((await apiSettingsFromCli({}, { env: ours })).serviceName, 'api-env', 'SWITCHYARD_API_SERVICE_NAME over LIGHTBUS_SERVICE_NAME');
    const documented = { ...ours, SWITCHYARD_SERVICE_NAME: 'documented' };
    assert.equal((await apiSettingsFromCli({}, { env: documented })).serviceName, 'documented', 'the documented SWITCHYARD_SERVICE_NAME keeps working');
    assert.equal((await apiSettingsFromCli({ serviceName: 'flag' }, { env: documented })).serviceName, 'flag', '--service-name over everything');
    assert.equal((await apiSettingsFromCli({}, { env: { SWITCHYARD_API_APIS: '{"default":{"rpcTimeout":3}}', SWITCHYARD_BUS_CONFIG: busYaml } })).apis.default!.rpcTimeout, 3, 'the environment over the bus config');
    assert.equal((await apiSettingsFromCli({}, { env: { SWITCHYARD_REMOTE_TRACES: 'false' } })).remoteTraces, false);
    assert.equal((await apiSettingsFromCli({}, { env: { SWITCHYARD_API_TRANSPORT: 'redis://10.0.0.1:6379' } })).transport, 'redis://10.0.0.1:6379');
  });

  it('a settings file\'s api section sits between the environment and the bus config', async () => {
    const file = fileLayer([apiSettingsSection], { api: { serviceName: 'settings-file', busConfig: busYaml } }, 'sy.yaml');
    const s = await resolveApiSettings([envLayer([apiSettingsSection], {}), file]);
    assert.equal(s.serviceName, 'settings-file', 'the settings file over the bus config it names');
    assert.equal(s.processName, 'file-proc', 'the bus config under it');
    const env = await resolveApiSettings([envLayer([apiSettingsSection], { SWITCHYARD_API_SERVICE_NAME: 'env' }), file]);
    assert.equal(env.serviceName, 'env');
  });

  it('names the key and its source in every mistake', async () => {
    await assert.rejects(apiSettingsFromCli({}, { env: { SWITCHYARD_API_SCHEMA_TTL: 'soon' } }), /SY_ERR_SETTINGS: invalid settings: api\.schemaTtl \(from environment variable SWITCHYARD_API_SCHEMA_TTL\)/);
    await assert.rejects(apiSettingsFromCli({}, { env: { SWITCHYARD_REMOTE_TRACES: 'maybe' } }), /api\.remoteTraces \(from environment variable SWITCHYARD_REMOTE_TRACES\): must be true or false/);
    await assert.rejects(apiSettingsFromCli({ busConfig: join(dir, 'missing.yaml') }, { env: {} }), /SY_ERR_SETTINGS: invalid settings: api\.busConfig: bus config .*missing\.yaml cannot be read; check the path/);
    await assert.rejects(apiSettingsFromCli({}, { env: { LIGHTBUS_CONFIG: join(dir, 'missing.yaml') } }), /api\.busConfig: bus config .*missing\.yaml cannot be read/);
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'apis:\n  default:\n    rpc_timeout: soon\n');
    await assert.rejects(apiSettingsFromCli({ busConfig: bad }, { env: {} }), /apis\.default\.rpc_timeout \(from bus config .*bad\.yaml\): expected number, got string/);
    assert.throws(() => resolveSettings([apiSettingsSection], [fileLayer([apiSettingsSection], { api: { servce_name: 'x' } }, 'sy.yaml')]), /unknown setting\(s\) api\.servce_name \(from settings file sy\.yaml\); known: api\.busConfig, api\.serviceName/);
    assert.throws(() => resolveSettings([apiSettingsSection], [fileLayer([apiSettingsSection], { api: { apis: { 'a.b': { rpcTimeout: -1 } } } }, 'sy.yaml')]), /api\.apis\.a\.b\.rpcTimeout \(from settings file sy\.yaml\)/);
    assert.throws(() => busOptionsOfUrl('redis://u:secret@h:1/0?stream_use=sideways'), (err: Error) => {
      assert.match(err.message, /SY_ERR_SETTINGS: .*transport redis:\/\/\*\*\*@h:1\/0: query parameter stream_use="sideways" is not valid; expected per_api or per_event/);
      assert.ok(!err.message.includes('secret'));
      return true;
    });
  });

  it('carries Lightbus\'s transport settings in the transport URL and back, leaving other parameters to the connection', () => {
    const url = busUrlWith('redis://h:6379/0?family=6', { streamUse: 'per_event', maxStreamLength: null, resultTtlS: 30, rpcExpiryS: 2 });
    assert.equal(url, 'redis://h:6379/0?family=6&stream_use=per_event&max_stream_length=none&result_ttl=30&rpc_timeout=2');
    assert.deepEqual(busOptionsOfUrl(url), { url: 'redis://h:6379/0?family=6', options: { streamUse: 'per_event', maxStreamLength: null, resultTtlS: 30, rpcExpiryS: 2 } });
    assert.deepEqual(busOptionsOfUrl('redis://h:6379'), { url: 'redis://h:6379', options: {} });
  });
});
