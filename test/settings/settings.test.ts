import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../../src/cli/settings.js';
import { resolveSystemSettings } from '../../src/cli/system.js';
import { envNameOf } from '../../src/config/settings/settings.js';
import { runner as workerRunner } from '../../src/models/worker/runner.js';
import { queueDefaultsOf, type WorkerSettings } from '../../src/models/worker/settings.js';
import type { ModelKind } from '../../src/observability/observer.js';
import type { ModelRunner } from '../../src/runtime/model.js';

/** The worker section as `run` resolves it. */
async function workerSettings(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<WorkerSettings> {
  const runners = new Map<ModelKind, ModelRunner>([['worker', workerRunner as unknown as ModelRunner]]);
  return (await resolveSystemSettings(runners, flags, env, process.cwd())).sections.get('worker') as WorkerSettings;
}

const dir = mkdtempSync(join(tmpdir(), 'switchyard-settings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('settings', () => {
  it('names environment variables SWITCHYARD_*', () => {
    assert.equal(envNameOf('', 'configHost'), 'SWITCHYARD_CONFIG_HOST');
    assert.equal(envNameOf('', 'metricsPort'), 'SWITCHYARD_METRICS_PORT');
  });

  it('has defaults: memory transport, fs storage, .switchyard state, info logs', () => {
    const s = loadSettings({}, {});
    assert.equal(s.transport, 'memory');
    assert.equal(s.storage, 'fs');
    assert.equal(s.stateDir, '.switchyard');
    assert.equal(s.logLevel, 'info');
  });

  it('takes flags over environment over the settings file', () => {
    const file = join(dir, 'settings.yaml');
    writeFileSync(file, 'logLevel: debug\nmap: from-file.yaml\nstateDir: file-state\n');
    const env = { SWITCHYARD_SETTINGS: file, SWITCHYARD_MAP: 'from-env.yaml', SWITCHYARD_STATE_DIR: 'env-state' };
    const s = loadSettings({ stateDir: 'flag-state' }, env);
    assert.equal(s.logLevel, 'debug');
    assert.equal(s.map, 'from-env.yaml');
    assert.equal(s.stateDir, 'flag-state');
  });

  it('queue defaults come from a flag, an environment variable or the settings file (issue 13)', async () => {
    assert.equal(queueDefaultsOf(await workerSettings({}, {})), undefined, 'unset: nothing declared, existing queues used as they are');
    assert.deepEqual(queueDefaultsOf(await workerSettings({ queueDurable: 'true' }, {})), { durable: true, arguments: {} });
    assert.deepEqual(queueDefaultsOf(await workerSettings({}, { SWITCHYARD_QUEUE_DURABLE: 'false', SWITCHYARD_QUEUE_ARGUMENTS: '{"x-max-length": 10}' })), { durable: false, arguments: { 'x-max-length': 10 } });
    const file = join(dir, 'queues.yaml');
    writeFileSync(file, 'queueDurable: true\nqueueArguments: { x-queue-type: quorum }\n');
    assert.deepEqual(queueDefaultsOf(await workerSettings({ settings: file }, {})), { durable: true, arguments: { 'x-queue-type': 'quorum' } }, 'the old top-level keys of a settings file');
    const sectioned = join(dir, 'queues-section.yaml');
    writeFileSync(sectioned, 'worker:\n  queueDurable: true\n');
    assert.deepEqual(queueDefaultsOf(await workerSettings({ settings: sectioned }, {})), { durable: true, arguments: {} }, 'the worker section of a settings file');
    // Arguments alone take slingshot's durable flag (false), as in a system map.
    assert.deepEqual(queueDefaultsOf(await workerSettings({ queueArguments: '{"x-max-length": 3}' }, {})), { durable: false, arguments: { 'x-max-length': 3 } });
    await assert.rejects(workerSettings({ queueDurable: 'maybe' }, {}), /queueDurable \(from flag --queue-durable\): must be true or false/);
    await assert.rejects(workerSettings({}, { SWITCHYARD_QUEUE_ARGUMENTS: '{x' }), /queueArguments \(from environment variable SWITCHYARD_QUEUE_ARGUMENTS\): must be a JSON object/);
    await assert.rejects(workerSettings({ queueArguments: '[1]' }, {}), /queueArguments .*mapping/);
  });

  it('coerces a metrics port from the environment and checks its range', () => {
    assert.equal(loadSettings({}, { SWITCHYARD_METRICS_PORT: '9464' }).metricsPort, 9464);
    assert.throws(() => loadSettings({}, { SWITCHYARD_METRICS_PORT: '70000' }), /metricsPort \(from environment variable SWITCHYARD_METRICS_PORT\)/);
  });

  it('names the source of a bad value', () => {
    assert.throws(() => loadSettings({}, { SWITCHYARD_LOG_LEVEL: 'loud' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SY_ERR_SETTINGS');
      assert.match(err.message, /logLevel \(from environment variable SWITCHYARD_LOG_LEVEL\)/);
      return true;
    });
    assert.throws(() => loadSettings({ transport: 'carrier-pigeon' }, {}), /transport \(from flag --transport\)/);
  });

  it('refuses unknown keys in a settings file, listing the known ones', () => {
    const file = join(dir, 'typo.yaml');
    writeFileSync(file, 'logLevle: debug\n');
    assert.throws(() => loadSettings({ settings: file }, {}), /unknown setting\(s\) logLevle \(from settings file .*typo\.yaml\); known: .*logLevel/);
  });

  it('a missing or malformed settings file is a settings error naming it', () => {
    assert.throws(() => loadSettings({ settings: join(dir, 'nope.yaml') }, {}), /cannot read settings file .*nope\.yaml: ENOENT/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, '- just\n- a list\n');
    assert.throws(() => loadSettings({ settings: bad }, {}), /must hold a mapping/);
  });
});
