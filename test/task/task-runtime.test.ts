// The task model on the one runtime: its runner (the ModelRunner contract), its settings
// section (precedence, the Core engine's variable names, .env files, errors that name key
// and source), the events it reports on the observer stream for a success, a failure, a
// set-aside task and refused requests, and a run through Runtime with /metrics scraped.

import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { defineSection, envLayer, fileLayer, flagLayer, resolveSettings } from '../../src/config/settings/settings.js';
import { resolveTaskSettings, taskFlagLayer } from '../../src/models/task/resolve-settings.js';
import {
  dotEnvLayers, isTaskServiceDefinition, runner, taskService, taskSettingsSection, TASK_EDGES,
  type TaskServiceComponent, type TaskServiceDefinition, type TaskSettings,
} from '../../src/models/task/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { startMetricsServer } from '../../src/observability/metrics.js';
import type { ObserverEvent } from '../../src/observability/observer.js';
import { observerMetrics } from '../../src/observability/observer-metrics.js';
import { DEFINITION, modelOf, type RunContext } from '../../src/runtime/model.js';
import { TransportRegistry } from '../../src/runtime/registry.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { S3Server } from '../support/s3-server.js';
import { startEngine, type EngineStandIn } from './engine-stand-in.js';
import { get, post, putObject, serviceTask, startS3, upperService } from './harness.js';

let s3: S3Server;
let client: S3Client;
let engine: EngineStandIn;

before(async () => {
  ({ s3, client } = await startS3());
  engine = await startEngine();
  await putObject(client, 'rt.txt', 'runtime');
});
after(async () => {
  client.destroy();
  await engine.close();
  await s3.close();
});

const quiet = () => createLogger({ level: 'silent' });

/** The task section resolved from a flag layer, the way a settings file or the CLI would give it. */
function settingsOf(task: Record<string, unknown>): TaskSettings {
  return resolveSettings([taskSettingsSection], [flagLayer({ task })]).task;
}

/** A runtime running the runner's components for `definitions`, as `switchyard run` does. */
async function runThroughRuntime(definitions: readonly TaskServiceDefinition[], task: Record<string, unknown>, transport = runner.defaultTransport) {
  const logger = quiet();
  const runtime = new Runtime({ logger });
  const transports = new TransportRegistry({ logger });
  runtime.addResource({ name: 'transports', stop: () => transports.close() });
  const ctx: RunContext<TaskSettings> = {
    logger, observer: runtime.observer, transports, settings: settingsOf(task), transport, stateDir: '.switchyard',
    configSource: () => Promise.reject(new Error('the task model asks for no configuration source')),
    objectStore: () => Promise.reject(new Error('the task model asks for no object store')),
  };
  return { runtime, ctx, components: () => runner.components(definitions, ctx) };
}

describe('the task runner', () => {
  it('declares the model, its section, the http capability and transport; definitions are marked "task"', async () => {
    assert.equal(runner.model, 'task');
    assert.equal(runner.settings, taskSettingsSection);
    assert.deepEqual(runner.needs, ['http']);
    assert.equal(runner.defaultTransport, 'http');
    assert.equal(modelOf(upperService), 'task');
    assert.equal(isTaskServiceDefinition(upperService), true);
    assert.equal(upperService.kind, 'task', 'the kind field stays meanwhile');
    assert.equal(Object.getOwnPropertyDescriptor(upperService, DEFINITION)?.enumerable, false, 'the mark never shows in logs or JSON');
    const [edges] = await runner.edges!([upperService], (await runThroughRuntime([], {})).ctx);
    assert.deepEqual(edges, {
      service: 'upper',
      inputs: [{ kind: 'http', name: 'POST /compute' }],
      outputs: [{ kind: 'http', name: 'engine callback' }, { kind: 'http', name: 'S3 store (data_out)' }],
    });
  });

  it('one task service per process, naming them; a transport without http is refused at start', async () => {
    const other = taskService({ ...declaration('other') }, async () => ({ result: { type: 'application/json', data: '{}' } }));
    const two = await runThroughRuntime([upperService, other], { port: 0, engineUrls: [] });
    await assert.rejects(two.components(), /SY_ERR_TASK_SERVICES: one task service per process .*got upper \(task service\), other \(task service\); run each in its own process with its own SERVICE_PORT$/);
    const none = await runThroughRuntime([], {});
    assert.deepEqual(await none.components(), []);
    const memory = await runThroughRuntime([upperService], { port: 0, engineUrls: [] }, 'memory');
    await assert.rejects(memory.components(), /SY_ERR_CAPABILITY_MISSING: the task model needs the transport capabilities \[http\] but transport "memory" does not offer them/);
  });
});

function declaration(slug: string) {
  return {
    name: slug, slug, summary: 's',
    dataIn: [{ name: 'text', types: ['text/plain'] }],
    dataOut: [{ name: 'result', types: ['application/json'] }],
  } as const;
}

describe('the task settings section', () => {
  it('documents every key (for the configuration reference) and reads every original variable name', () => {
    const keys = Object.keys(taskSettingsSection.schema.shape);
    for (const key of keys) {
      const description = (taskSettingsSection.schema.shape as Record<string, { description?: string }>)[key]!.description;
      assert.ok(description && description.length > 20, `task.${key} has no description`);
    }
    const original = taskSettingsSection.originalEnv!;
    assert.deepEqual(Object.keys(original).sort(), [...keys].sort(), 'every key has the name task services have always read');
    // Each original name sets its key (values every key accepts).
    const value: Record<string, string> = { port: '7', host: 'h', serviceUrl: 'http://s:1', engineUrls: 'http://e:1', authToken: 'env:T', outboundAllow: 'a.example', maxBodyBytes: '4096', requestTimeout: '7', headersTimeout: '7', keepAliveTimeout: '7' };
    for (const key of keys) {
      const env = { [original[key as keyof typeof original]!]: value[key] ?? '7' };
      const s = resolveTaskSettings({}, env, '/nonexistent') as Record<string, unknown>;
      const got = s[key];
      assert.notDeepEqual(got, resolveTaskSettings({}, {}, '/nonexistent')[key as keyof TaskSettings], `${original[key as keyof typeof original]} did not set task.${key}`);
    }
  });

  it('precedence: flags > SWITCHYARD_TASK_* > the original names > settings file > .env > ../.env > defaults', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sy-task-section-'));
    try {
      const cwd = join(root, 'svc');
      await mkdir(cwd);
      await writeFile(join(root, '.env'), 'MAX_TASKS=7\nSERVICE_PORT=1111\nTASK_CONCURRENCY=3\nHEARTBEAT_INTERVAL=4\n');
      await writeFile(join(cwd, '.env'), 'SERVICE_PORT=2222\nTASK_CONCURRENCY=5\n');
      // With the process's top-level section beside it, as the one CLI resolves them.
      const sections = [defineSection('', z.object({ logLevel: z.string().optional() })), taskSettingsSection] as const;
      const file = fileLayer(sections, { logLevel: 'info', task: { concurrency: 6, maxTasks: 8 } }, 'settings.yaml');
      const layers = (env: NodeJS.ProcessEnv, flags: Record<string, unknown> = {}) => [taskFlagLayer(flags), envLayer(sections, env), file, ...dotEnvLayers(cwd)];
      const s = resolveSettings(sections, layers({})).task;
      assert.equal(s.heartbeatInterval, 4, '../.env over the default');
      assert.equal(s.port, 2222, '.env over ../.env');
      assert.equal(s.concurrency, 6, 'the settings file over .env');
      assert.equal(s.maxTasks, 8);
      assert.equal(s.announceRetries, 5, 'the default');
      const e = resolveSettings(sections, layers({ MAX_TASKS: '9', SWITCHYARD_TASK_CONCURRENCY: '10', TASK_CONCURRENCY: '11' })).task;
      assert.equal(e.maxTasks, 9, 'the original name over the settings file');
      assert.equal(e.concurrency, 10, 'SWITCHYARD_TASK_* over the original name');
      const f = resolveSettings(sections, layers({ SWITCHYARD_TASK_CONCURRENCY: '10' }, { taskConcurrency: '12', engineUrl: ['http://x:1'] })).task;
      assert.equal(f.concurrency, 12, 'the flag over everything');
      assert.deepEqual(f.engineUrls, ['http://x:1']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a mistake names the key and where it came from: flag, variable, .env file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sy-task-section-'));
    try {
      await writeFile(join(root, '.env'), 'SERVICE_PORT=lots\n');
      assert.throws(() => resolveTaskSettings({ maxTasks: '0' }, { SWITCHYARD_TASK_HEARTBEAT_INTERVAL: '-1', SERVICE_URL: 'ftp://x' }, root), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'SY_ERR_SETTINGS');
        assert.match(err.message, /task\.maxTasks \(from flag --max-tasks\)/);
        assert.match(err.message, /task\.heartbeatInterval \(from environment variable SWITCHYARD_TASK_HEARTBEAT_INTERVAL\)/);
        assert.match(err.message, /task\.serviceUrl \(from environment variable SERVICE_URL\): must be an http:\/\/ or https:\/\/ URL/);
        assert.match(err.message, new RegExp(`task\\.port \\(from \\.env file ${join(root, '.env').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} SERVICE_PORT\\)`));
        return true;
      });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

/** The events of one task id, as "type" or "type:detail" strings. */
function story(events: readonly ObserverEvent[], id: string): string[] {
  return events.filter((e) => 'id' in e && e.id === id).map((e) => {
    switch (e.type) {
      case 'received':
      case 'handled':
        return `${e.type}:${e.input}`;
      case 'failed':
        return `failed:${e.input}:${e.error.code}`;
      case 'dead-lettered':
        return `dead-lettered:${e.input}:${e.reasonKind}`;
      case 'called':
        return `called:${e.target}${e.error ? ':error' : ''}`;
      default:
        return e.type;
    }
  });
}

describe('the observer stream', () => {
  it('a success, a failure, a set-aside task and refused requests, each in its shape; edges on ready; the engine calls', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const gated = taskService(declaration('gated'), async ({ text }) => {
      if ((await text.text()) === 'wait') await gate;
      return { result: { type: 'application/json', data: '{}' } };
    });
    const { runtime, components } = await runThroughRuntime([gated], { port: 0, engineUrls: [engine.url], heartbeatInterval: 0, maxTasks: 1, authToken: 'env:SY_TEST_TASK_RT_TOKEN', callbackRetries: 1, maxBodyBytes: 4096 });
    const events: ObserverEvent[] = [];
    runtime.observer.listen((e) => void events.push(e));
    process.env.SY_TEST_TASK_RT_TOKEN = 'rt-token';
    const [svc] = (await components()) as TaskServiceComponent[];
    delete process.env.SY_TEST_TASK_RT_TOKEN;
    await runtime.add(svc!);
    await runtime.start();
    const auth = { authorization: 'Bearer rt-token' };
    try {
      await svc!.registration;
      for (const e of events) assert.deepEqual([e.model, e.service, e.transport], ['task', 'gated', 'http']);
      const ready = events.find((e) => e.type === 'state' && e.state === 'ready');
      assert.deepEqual(ready?.type === 'state' && { inputs: ready.inputs, outputs: ready.outputs }, TASK_EDGES);
      assert.ok(events.some((e) => e.type === 'called' && e.target === 'engine-register' && e.error === undefined));

      // A success: received, the callback call, handled with what it wrote.
      await putObject(client, 'wait.txt', 'wait');
      const ok = serviceTask({ s3, engine, dataIn: ['wait.txt'] });
      assert.equal((await post(`${svc!.url}/compute`, ok.body, auth)).status, 200);
      // Refusals while that task holds the only place (MAX_TASKS 1): full (503), invalid (422), unauthorized (401),
      // too large (413; a path that is no input is not reported).
      const more = serviceTask({ s3, engine, dataIn: ['rt.txt'] });
      assert.equal((await post(`${svc!.url}/compute`, more.body, auth)).status, 503);
      assert.equal((await post(`${svc!.url}/compute`, { task: 'no' }, auth)).status, 422);
      assert.equal((await post(`${svc!.url}/compute`, more.body)).status, 401);
      assert.equal((await get(`${svc!.url}/tasks/not-a-uuid/status`, auth)).status, 422);
      assert.equal((await post(`${svc!.url}/compute`, { pad: 'x'.repeat(5000) }, auth)).status, 413);
      assert.equal((await post(`${svc!.url}/elsewhere`, { pad: 'x'.repeat(5000) }, auth)).status, 413);
      release();
      const update = await engine.callback(ok.id);
      assert.equal(update.status, 'finished');
      await until(() => events.some((e) => e.type === 'handled' && e.id === ok.id));
      assert.deepEqual(story(events, ok.id), ['received:compute', 'called:engine-callback', 'handled:compute']);
      const handled = events.find((e) => e.type === 'handled' && e.id === ok.id);
      assert.deepEqual(handled?.type === 'handled' && [handled.wrote, handled.produced], [update.data_out, [{ output: 'engine callback', id: ok.id }]]);
      assert.deepEqual(
        events.filter((e) => e.type === 'rejected').map((e) => e.type === 'rejected' && `${e.input}:${e.reason}`),
        ['compute:full', 'compute:invalid', 'compute:unauthorized', 'task-status:invalid', 'compute:too-large'],
      );

      // A failure: the input's type is wrong; the engine is told, so it is "failed" (not retried here).
      const bad = serviceTask({ s3, engine, dataIn: ['rt.png'] });
      assert.equal((await post(`${svc!.url}/compute`, bad.body, auth)).status, 200);
      assert.equal((await engine.callback(bad.id)).status, 'error');
      await until(() => events.some((e) => e.type === 'failed' && e.id === bad.id));
      assert.deepEqual(story(events, bad.id), ['received:compute', 'called:engine-callback', 'failed:compute:SY_ERR_TASK_INPUT']);
      const failed = events.find((e) => e.type === 'failed' && e.id === bad.id);
      assert.equal(failed?.type === 'failed' && failed.retryInMs, undefined);

      // Set aside: the engine refuses the callback (a 4xx is final), so it never learns the outcome.
      engine.callbackStatus = 400;
      const lost = serviceTask({ s3, engine, dataIn: ['rt.txt'] });
      assert.equal((await post(`${svc!.url}/compute`, lost.body, auth)).status, 200);
      await until(() => events.some((e) => e.type === 'dead-lettered' && e.id === lost.id));
      assert.deepEqual(story(events, lost.id), ['received:compute', 'called:engine-callback:error', 'dead-lettered:compute:callback-abandoned']);
    } finally {
      engine.callbackStatus = 200;
      release();
      await runtime.stop();
    }
    // Stopping: draining, the sleeping notice to the engine, stopped.
    const tail = events.filter((e) => e.type === 'state' || (e.type === 'called' && e.target === 'engine-status')).slice(-3);
    assert.deepEqual(tail.map((e) => (e.type === 'state' ? e.state : e.type === 'called' ? `${e.target}${e.error ? ':error' : ''}` : '')), ['draining', 'engine-status', 'stopped']);
    // Every received has exactly one ending.
    for (const r of events.filter((e) => e.type === 'received')) {
      const endings = events.filter((e) => (e.type === 'handled' || e.type === 'failed' || e.type === 'dead-lettered') && e.id === (r.type === 'received' ? r.id : ''));
      assert.equal(endings.length, 1);
    }
  });
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('through the Runtime, with /metrics', () => {
  it('serves a task and its series appear on /metrics (model="task"), with /ready answering 200', async () => {
    const { runtime, components } = await runThroughRuntime([upperService], { port: 0, engineUrls: [engine.url], heartbeatInterval: 0 });
    const metrics = observerMetrics(runtime.observer, { processMetrics: false });
    const server = await startMetricsServer({ registry: metrics.registry, port: 0, health: () => runtime.health() });
    runtime.addResource({ name: 'metrics server', stop: () => server.close() });
    const [svc] = (await components()) as TaskServiceComponent[];
    await runtime.add(svc!);
    await runtime.start();
    try {
      await svc!.registration;
      const t = serviceTask({ s3, engine, dataIn: ['rt.txt'] });
      assert.equal((await post(`${svc!.url}/compute`, t.body)).status, 200);
      assert.equal((await engine.callback(t.id)).status, 'finished');
      await until(() => svc!.activity().callbacksPending === 0);
      const ready = await fetch(`${server.url}/ready`);
      assert.equal(ready.status, 200);
      assert.equal(((await ready.json()) as { status: string }).status, 'ok');
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const source = 'model="task",service="upper",transport="http"';
      for (const series of [
        `switchyard_component_ready{${source}} 1`,
        `switchyard_received_total{${source},input="compute"} 1`,
        `switchyard_handled_total{${source},input="compute"} 1`,
        `switchyard_in_flight{${source},input="compute"} 0`,
        `switchyard_calls_total{${source},target="engine-register",outcome="ok"} 1`,
        `switchyard_calls_total{${source},target="engine-callback",outcome="ok"} 1`,
        `switchyard_sent_total{${source},output="engine callback"} 1`,
      ]) assert.ok(text.includes(series), `${series} missing from /metrics:\n${text.split('\n').filter((l) => l.includes('model="task"')).join('\n')}`);
    } finally {
      await runtime.stop();
    }
  });
});
