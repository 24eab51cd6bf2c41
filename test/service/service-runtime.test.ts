// The service model on the one runtime: its runner (the ModelRunner contract), its settings
// section (precedence, service_framework's own files as a source, errors naming key and
// source), the events it reports on the observer stream for a success, a failure and
// refusals, and a run through Runtime on ZeroMQ with /metrics scraped.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveServiceSettings, serviceFlagLayer } from '../../src/cli/commands/service.js';
import { envLayer, fileLayer, resolveSettings, type Layer } from '../../src/config/settings/settings.js';
import { z } from 'zod';
import { defineSection } from '../../src/config/settings/settings.js';
import {
  encodeEnvelope, isServiceDefinition, publisher, replyer, requester, runner, service, serviceFrameworkLayer, serviceSettingsSection, t,
  type ServiceComponent, type ServiceDefinition, type ServiceSettings,
} from '../../src/models/service/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { startMetricsServer } from '../../src/observability/metrics.js';
import type { ObserverEvent } from '../../src/observability/observer.js';
import { observerMetrics } from '../../src/observability/observer-metrics.js';
import { DEFINITION, modelOf, type RunContext } from '../../src/runtime/model.js';
import { TransportRegistry } from '../../src/runtime/registry.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../../src/transports/zeromq/defaults.js';
import { freePorts } from '../support/service-framework-peer.js';
import { waitFor } from './service-kit.js';

const quiet = () => createLogger({ level: 'silent' });

/** The process's top-level section beside ours, as the one CLI resolves them. */
const sections = [defineSection('', z.object({ logLevel: z.string().optional() })), serviceSettingsSection] as const;

/** A settings file with a "service" mapping. */
function settingsFile(values: Record<string, unknown>): Layer {
  return fileLayer(sections, { logLevel: 'info', service: values }, 'settings.yaml');
}

/** The section resolved from a settings file's mapping, as `switchyard run` would get it. */
function settingsOf(values: Record<string, unknown>): ServiceSettings {
  return resolveSettings(sections, [settingsFile(values)]).service;
}

/** A runtime running the runner's components for `definitions`, as `switchyard run` does. */
function runThroughRuntime(settings: Record<string, unknown>, transport = runner.defaultTransport) {
  const logger = quiet();
  const runtime = new Runtime({ logger });
  const transports = new TransportRegistry({ logger });
  runtime.addResource({ name: 'transports', stop: () => transports.close() });
  const ctx: RunContext<ServiceSettings> = {
    logger, observer: runtime.observer, transports, settings: settingsOf(settings), transport, stateDir: '.switchyard',
    configSource: () => Promise.reject(new Error('the service model asks for no configuration source')),
    objectStore: () => Promise.reject(new Error('the service model asks for no object store')),
  };
  return {
    runtime, ctx, transports,
    async run(definitions: readonly ServiceDefinition[]): Promise<ServiceComponent[]> {
      const components = (await runner.components(definitions, ctx)) as ServiceComponent[];
      for (const c of components) await runtime.add(c);
      await runtime.start();
      return components;
    },
  };
}

const quoteModel = { requiredArguments: { symbol: t.str }, requiredReturnArguments: { mid: t.int } } as const;

/** A replyer that answers, fails on "FAIL" and publishes each answer on "audit". */
const pricer = service({
  name: 'pricer',
  connections: {
    in: {
      quote: replyer(quoteModel, async (args, toSend) => {
        if (args.symbol === 'FAIL') throw new Error('no price for FAIL');
        await toSend('connection', 'audit', { symbol: args.symbol });
        return { mid: args.symbol.length };
      }),
    },
    out: { audit: publisher({ requiredArguments: { symbol: t.str }, waitAfterCreationS: 0 }) },
  },
  states: { in: { book: { stateType: 'full_update_in', optionalArguments: { bid: t.int } } } },
});

const caller = service({
  name: 'caller',
  connections: { out: { quote: requester({ ...quoteModel, timeoutMs: 5000 }) } },
  states: { out: { book: { stateType: 'full_update_out', optionalArguments: { bid: t.int }, waitAfterCreationS: 0 } } },
});

const memoryAddresses = {
  connections: { in: { quote: { replyer: 'quote:1' } }, out: { quote: { requester: 'quote:1' }, audit: { publisher: 'audit:1' } } },
  states: { in: { book: { subscriber: 'book:1' } }, out: { book: { publisher: 'book:1' } } },
};

describe('the service runner', () => {
  it('declares the model, its section, the sockets capability and zeromq; definitions are marked "service"', async () => {
    assert.equal(runner.model, 'service');
    assert.equal(runner.settings, serviceSettingsSection);
    assert.deepEqual(runner.needs, ['sockets']);
    assert.equal(runner.defaultTransport, 'zeromq');
    assert.equal(modelOf(pricer), 'service');
    assert.equal(isServiceDefinition(pricer), true);
    assert.equal(pricer.kind, 'switchyard.service', 'the kind field stays meanwhile');
    assert.equal(Object.getOwnPropertyDescriptor(pricer, DEFINITION)?.enumerable, false, 'the mark never shows in logs or JSON');
    const { ctx } = runThroughRuntime({ addresses: memoryAddresses });
    assert.deepEqual(await runner.edges!([pricer, caller], ctx), [
      {
        service: 'pricer',
        inputs: [{ kind: 'socket', name: 'quote', label: 'replyer quote:1' }, { kind: 'state', name: 'book', label: 'subscriber book:1' }],
        outputs: [{ kind: 'socket', name: 'audit' }],
      },
      { service: 'caller', inputs: [], outputs: [{ kind: 'socket', name: 'quote' }, { kind: 'state', name: 'book' }] },
    ]);
  });

  it('refuses two services of one name and a transport without sockets; no definitions, no components', async () => {
    const twin = service({ connections: {} });
    const other = service({ connections: {} });
    await assert.rejects(runThroughRuntime({}, 'memory').run([twin, other]), /SY_ERR_SERVICE_DEFINITIONS: several services in one process must have different names \(got service, service\)/);
    await assert.rejects(runThroughRuntime({}, 'http').run([pricer]), /SY_ERR_CAPABILITY_MISSING: the service model needs the transport capabilities \[sockets\] but transport "http" does not offer them/);
    assert.deepEqual(await runner.components([], runThroughRuntime({}).ctx), []);
  });
});

describe('the service settings section', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sy-service-section-'));
    await writeFile(join(dir, 'addresses.json'), JSON.stringify({ in: { quote: { replyer: '127.0.0.1:9001' } } }));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ symbol: 'BTC', depth: 5 }));
    await writeFile(join(dir, 'broken.json'), '{"in": ');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('documents every key (for the configuration reference); service_framework reads no environment variables', () => {
    for (const [key, schema] of Object.entries(serviceSettingsSection.schema.shape)) {
      assert.ok(((schema as { description?: string }).description?.length ?? 0) > 20, `service.${key} has no description`);
    }
    assert.equal(serviceSettingsSection.originalEnv, undefined);
    const defaults = settingsOf({});
    assert.deepEqual(defaults, { mainMode: false, maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE, consoleLoglevel: 'info', fileLoglevel: 'info' });
  });

  it('service_framework\'s files are a source: the addresses file as it is, the config file with the extra pairs over it (values stay strings)', () => {
    const s = resolveServiceSettings({ flags: { addressesPath: join(dir, 'addresses.json'), configPath: join(dir, 'config.json') }, extra: ['--depth', '7', '-mode', 'fast'], env: {} });
    assert.deepEqual(s.addresses, { in: { quote: { replyer: '127.0.0.1:9001' } } });
    assert.deepEqual(s.config, { symbol: 'BTC', depth: '7', mode: 'fast' });
    const layer = serviceFrameworkLayer({});
    assert.deepEqual(layer.values, { service: {} });
  });

  it('precedence: flags > SWITCHYARD_SERVICE_* > settings file > service_framework\'s files > defaults', () => {
    // The CLI's layers, with a settings file between the environment and the original's files.
    const layers = (flags: Record<string, unknown>, env: NodeJS.ProcessEnv, file: Record<string, unknown>) => resolveSettings(sections, [
      serviceFlagLayer(flags),
      envLayer(sections, env),
      settingsFile(file),
      serviceFrameworkLayer({ addressesPath: join(dir, 'addresses.json'), configPath: join(dir, 'config.json') }),
    ]).service;
    const base = layers({}, {}, {});
    assert.deepEqual(base.config, { symbol: 'BTC', depth: 5 }, 'the config file');
    assert.equal(base.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE, 'the default');
    const file = layers({}, {}, { maxMessageSize: 1024, config: { symbol: 'ETH' }, mainMode: true });
    assert.equal(file.maxMessageSize, 1024, 'the settings file over the default');
    assert.deepEqual(file.config, { symbol: 'ETH' }, 'the settings file over the config file');
    assert.equal(file.mainMode, true);
    const env = layers({}, { SWITCHYARD_SERVICE_MAX_MESSAGE_SIZE: '2048', SWITCHYARD_SERVICE_ADDRESSES: '{"in": {}}', SWITCHYARD_SERVICE_MAIN_MODE: 'false' }, { maxMessageSize: 1024, mainMode: true });
    assert.equal(env.maxMessageSize, 2048, 'the environment over the settings file');
    assert.deepEqual(env.addresses, { in: {} }, 'JSON in the environment over the addresses file');
    assert.equal(env.mainMode, false);
    const flags = layers({ maxMessageSize: '4096', mainMode: true, consoleLoglevel: 'WARNING' }, { SWITCHYARD_SERVICE_MAX_MESSAGE_SIZE: '2048' }, {});
    assert.equal(flags.maxMessageSize, 4096, 'the flag over everything');
    assert.equal(flags.mainMode, true);
    assert.equal(flags.consoleLoglevel, 'warn', 'Python\'s level names work');
  });

  it('a mistake names the key and where it came from: flag, variable, file; unreadable files and odd pairs are named too', () => {
    assert.throws(() => resolveServiceSettings({
      flags: { maxMessageSize: '0', consoleLoglevel: 'LOUD' },
      extra: [],
      env: { SWITCHYARD_SERVICE_MAIN_MODE: 'maybe', SWITCHYARD_SERVICE_ADDRESSES: '[1, 2]', SWITCHYARD_SERVICE_TRANSPORT: 'amqp://x' },
    }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SY_ERR_SETTINGS');
      assert.match(err.message, /service\.maxMessageSize \(from flag --max-message-size\): must be a whole number of bytes ≥ 1, or -1 for no limit/);
      assert.match(err.message, /service\.consoleLoglevel \(from flag -cl\): must be a log level/);
      assert.match(err.message, /service\.mainMode \(from environment variable SWITCHYARD_SERVICE_MAIN_MODE\): must be true or false/);
      assert.match(err.message, /service\.addresses \(from environment variable SWITCHYARD_SERVICE_ADDRESSES\): must be a JSON object/);
      assert.match(err.message, /service\.transport \(from environment variable SWITCHYARD_SERVICE_TRANSPORT\): must be zeromq, memory, or a tcp:\/\//);
      return true;
    });
    assert.throws(() => settingsOf({ config: 'x' }),
      /service\.config \(from settings file settings\.yaml\): must be a JSON object/);
    assert.throws(() => resolveServiceSettings({ flags: { addressesPath: join(dir, 'missing.json') }, extra: [], env: {} }), /SY_ERR_SETTINGS: invalid settings: addresses file .*missing\.json cannot be read: ENOENT/);
    assert.throws(() => resolveServiceSettings({ flags: { configPath: join(dir, 'broken.json') }, extra: [], env: {} }), /SY_ERR_SETTINGS: invalid settings: config file .*broken\.json is not JSON/);
    assert.throws(() => resolveServiceSettings({ flags: {}, extra: ['--odd'], env: {} }), /SY_ERR_USAGE: extra arguments come in "--key value" pairs, got 1/);
  });
});

/** The events of one id, as "type:name" strings. */
function story(events: readonly ObserverEvent[], id: string): string[] {
  return events.filter((e) => 'id' in e && e.id === id).map((e) => {
    switch (e.type) {
      case 'received':
      case 'handled':
        return `${e.type}:${e.input}`;
      case 'failed':
        return `failed:${e.input}:${e.error.message}`;
      case 'called':
        return `called:${e.target}${e.error ? `:${e.error.code}` : ''}`;
      case 'sent':
        return `sent:${e.output}`;
      default:
        return e.type;
    }
  });
}

describe('the observer stream', () => {
  it('a success, a failure and refusals, each in its shape; edges on ready; calls, outputs and state updates', async () => {
    const { runtime, run, transports } = runThroughRuntime({ addresses: memoryAddresses }, 'memory');
    const events: ObserverEvent[] = [];
    runtime.observer.listen((e) => void events.push(e));
    const [server, client] = await run([pricer, caller]);
    try {
      for (const e of events) assert.deepEqual([e.model, e.transport], ['service', 'memory']);
      const ready = events.find((e) => e.type === 'state' && e.state === 'ready' && e.service === 'pricer');
      assert.deepEqual(ready?.type === 'state' && { inputs: ready.inputs, outputs: ready.outputs }, {
        inputs: [{ kind: 'socket', name: 'quote', label: 'replyer quote:1' }, { kind: 'state', name: 'book', label: 'subscriber book:1' }],
        outputs: [{ kind: 'socket', name: 'audit' }],
      });

      // A success: the caller's call, the pricer's arrival and ending with the publication it produced.
      assert.deepEqual(await client!.toSend('connection', 'quote', { symbol: 'BTC' }), { mid: 3 });
      const okCall = events.find((e) => e.type === 'called' && e.service === 'caller');
      assert.ok(okCall?.type === 'called' && okCall.error === undefined && okCall.durationMs >= 0);
      const id = okCall.id;
      assert.deepEqual(story(events.filter((e) => e.service === 'pricer'), id), ['received:quote', 'handled:quote']);
      assert.deepEqual(story(events.filter((e) => e.service === 'caller'), id), ['called:quote']);
      const handled = events.find((e) => e.type === 'handled' && e.id === id);
      assert.deepEqual(handled?.type === 'handled' && handled.produced, [{ output: 'audit', id }]);

      // A failure: the handler throws; the caller's call fails with the reason.
      await assert.rejects(client!.toSend('connection', 'quote', { symbol: 'FAIL' }), /SY_ERR_SERVICE_REMOTE: .*no price for FAIL/);
      const failedCall = events.filter((e) => e.type === 'called' && e.service === 'caller').at(-1)!;
      assert.deepEqual(story(events.filter((e) => e.service === 'pricer'), failedCall.type === 'called' ? failedCall.id : ''), ['received:quote', 'failed:quote:no price for FAIL']);
      assert.deepEqual(story(events.filter((e) => e.service === 'caller'), failedCall.type === 'called' ? failedCall.id : ''), ['called:quote:SY_ERR_SERVICE_REMOTE']);
      const failed = events.find((e) => e.type === 'failed');
      assert.equal(failed?.type === 'failed' && failed.retryInMs, undefined, 'not retried: the requester decides');

      // Refusals: a frame that is not msgpack, args the model refuses. Nothing arrives, nothing is handled.
      // A raw peer on the same in-process sockets (the registry shares one transport per spec).
      const sockets = (await transports.open('memory', 'service', ['sockets'])).sockets!;
      const arrivals = events.filter((e) => e.type === 'received').length;
      const raw = await sockets.requester('quote:1');
      await raw.request(Uint8Array.from([0xc1]));
      await raw.request(encodeEnvelope({ symbol: 7 }, 'w-bad'));
      await raw.close();
      assert.deepEqual(events.filter((e) => e.type === 'rejected').map((e) => e.type === 'rejected' && `${e.service}:${e.input}:${e.reason}`), ['pricer:quote:undecodable', 'pricer:quote:invalid']);
      assert.equal(events.filter((e) => e.type === 'received').length, arrivals);

      // Outside a handler: a state update is "sent"; at the receiver it arrives and is handled.
      await client!.toSend('state', 'book', { bid: 5 });
      await waitFor(() => events.some((e) => e.type === 'handled' && e.input === 'book'), 'the state update at the pricer');
      assert.ok(events.some((e) => e.type === 'sent' && e.service === 'caller' && e.output === 'book'));
      assert.deepEqual(server!.states().book, { bid: 5 });
    } finally {
      await runtime.stop();
    }
    // Stopping: draining, then stopped, for both (in reverse order of starting).
    assert.deepEqual(events.filter((e) => e.type === 'state' && (e.state === 'draining' || e.state === 'stopped')).map((e) => e.type === 'state' && `${e.service}:${e.state}`),
      ['caller:draining', 'caller:stopped', 'pricer:draining', 'pricer:stopped']);
    // Every received has exactly one ending.
    for (const r of events.filter((e) => e.type === 'received')) {
      const endings = events.filter((e) => (e.type === 'handled' || e.type === 'failed' || e.type === 'dead-lettered') && e.service === r.service && e.input === (r.type === 'received' ? r.input : '') && e.id === (r.type === 'received' ? r.id : ''));
      assert.equal(endings.length, 1);
    }
  });
});

describe('through the Runtime on ZeroMQ, with /metrics', () => {
  it('serves requests and their series appear on /metrics (model="service", transport="zeromq"), with /ready answering 200', { timeout: 30_000 }, async () => {
    const [quotePort, auditPort, bookPort] = await freePorts(3);
    const { runtime, run } = runThroughRuntime({
      addresses: {
        connections: { in: { quote: { replyer: `127.0.0.1:${quotePort}` } }, out: { quote: { requester: `127.0.0.1:${quotePort}` }, audit: { publisher: `127.0.0.1:${auditPort}` } } },
        states: { in: { book: { subscriber: `127.0.0.1:${bookPort}` } }, out: { book: { publisher: `127.0.0.1:${bookPort}` } } },
      },
    });
    const metrics = observerMetrics(runtime.observer, { processMetrics: false });
    const server = await startMetricsServer({ registry: metrics.registry, port: 0, health: () => runtime.health() });
    runtime.addResource({ name: 'metrics server', stop: () => server.close() });
    try {
      const [, client] = await run([pricer, caller]);
      for (let i = 0; i < 3; i++) assert.deepEqual(await client!.toSend('connection', 'quote', { symbol: 'ETH' }), { mid: 3 });
      await assert.rejects(client!.toSend('connection', 'quote', { symbol: 'FAIL' }), /SY_ERR_SERVICE_REMOTE/);
      const ready = await fetch(`${server.url}/ready`);
      assert.equal(ready.status, 200);
      assert.equal(((await ready.json()) as { status: string }).status, 'ok');
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const pricerSource = 'model="service",service="pricer",transport="zeromq"';
      const callerSource = 'model="service",service="caller",transport="zeromq"';
      for (const series of [
        `switchyard_component_ready{${pricerSource}} 1`,
        `switchyard_component_ready{${callerSource}} 1`,
        `switchyard_received_total{${pricerSource},input="quote"} 4`,
        `switchyard_handled_total{${pricerSource},input="quote"} 3`,
        `switchyard_failed_total{${pricerSource},input="quote"} 1`,
        `switchyard_in_flight{${pricerSource},input="quote"} 0`,
        `switchyard_sent_total{${pricerSource},output="audit"} 3`,
        `switchyard_calls_total{${callerSource},target="quote",outcome="ok"} 3`,
        `switchyard_calls_total{${callerSource},target="quote",outcome="error"} 1`,
        `switchyard_call_duration_seconds_count{${callerSource},target="quote"} 4`,
      ]) assert.ok(text.includes(series), `${series} missing from /metrics:\n${text.split('\n').filter((l) => l.includes('model="service"')).join('\n')}`);
    } finally {
      await runtime.stop();
    }
  });
});
