// The worker's settings as one section of the settings system: precedence (flags >
// SWITCHYARD_WORKER_* > the names workers have always read > settings file > defaults), the
// old spellings kept working, and every mistake named with its key and where it came from.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveSystemSettings } from '../../src/cli/system.js';
import { DEFAULT_STAGING_MEMORY_BYTES } from '../../src/models/worker/request-files.js';
import { runner } from '../../src/models/worker/runner.js';
import { queueDefaultsOf, workerOptionsOf, workerSettingsSection, type WorkerSettings } from '../../src/models/worker/settings.js';
import type { ModelKind } from '../../src/observability/observer.js';
import type { ModelRunner } from '../../src/runtime/model.js';

/** The worker section as `switchyard run` resolves it (cli/system.ts: flags, environment, settings file). */
async function resolveWorkerSettings(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<WorkerSettings> {
  const runners = new Map<ModelKind, ModelRunner>([['worker', runner as unknown as ModelRunner]]);
  return (await resolveSystemSettings(runners, flags, env, process.cwd())).sections.get('worker') as WorkerSettings;
}

function settingsError(pattern: RegExp) {
  return (err: Error & { code?: string }) => {
    assert.equal(err.code, 'SY_ERR_SETTINGS');
    assert.match(err.message, pattern);
    return true;
  };
}

describe('worker settings section', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-worker-settings-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is one section named "worker" whose every key is described', () => {
    assert.equal(workerSettingsSection.name, 'worker');
    for (const [key, schema] of Object.entries(workerSettingsSection.schema.shape)) {
      assert.ok((schema as { description?: string }).description, `${key} has a .describe()`);
    }
  });

  it('defaults: staging in memory up to 1 MiB in the OS temp folder, queues as slingshot declares them', async () => {
    const s = await resolveWorkerSettings({}, {});
    assert.deepEqual(s, { stagingMemoryBytes: DEFAULT_STAGING_MEMORY_BYTES });
    assert.equal(queueDefaultsOf(s), undefined);
    assert.deepEqual(workerOptionsOf(s), { stagingMemoryBytes: DEFAULT_STAGING_MEMORY_BYTES });
  });

  it('reads the names workers have always read (SWITCHYARD_STAGING_DIR, ...) and the top-level keys of settings files', async () => {
    const env = {
      SWITCHYARD_STAGING_DIR: '/tmp/old-name',
      SWITCHYARD_STAGING_MEMORY_BYTES: '0',
      SWITCHYARD_QUEUE_DURABLE: 'true',
      SWITCHYARD_QUEUE_ARGUMENTS: '{"x-queue-type":"quorum"}',
    };
    const s = await resolveWorkerSettings({}, env);
    assert.deepEqual(s, { stagingDir: '/tmp/old-name', stagingMemoryBytes: 0, queueDurable: true, queueArguments: { 'x-queue-type': 'quorum' } });
    assert.deepEqual(queueDefaultsOf(s), { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    assert.deepEqual(workerOptionsOf(s), { stagingMemoryBytes: 0, stagingRoot: '/tmp/old-name', queueDefaults: { durable: true, arguments: { 'x-queue-type': 'quorum' } } });

    const file = join(dir, 'top.yaml');
    await writeFile(file, 'transport: memory\nlogLevel: info\nstagingDir: /tmp/top-level\nqueueDurable: false\n');
    assert.deepEqual(await resolveWorkerSettings({ settings: file }, {}), { stagingDir: '/tmp/top-level', stagingMemoryBytes: DEFAULT_STAGING_MEMORY_BYTES, queueDurable: false },
      'process settings beside them (transport, logLevel) are not the worker\'s and not an error');
  });

  it('precedence: flag > SWITCHYARD_WORKER_* > the old name > settings file worker: > its top level > default', async () => {
    const file = join(dir, 'both.yaml');
    await writeFile(file, 'stagingDir: /from/top\nstagingMemoryBytes: 7\nworker:\n  stagingDir: /from/section\n');
    const env = { SWITCHYARD_WORKER_STAGING_DIR: '/from/ours', SWITCHYARD_STAGING_DIR: '/from/old' };
    assert.equal((await resolveWorkerSettings({ settings: file, stagingDir: '/from/flag' }, env)).stagingDir, '/from/flag');
    assert.equal((await resolveWorkerSettings({ settings: file }, env)).stagingDir, '/from/ours');
    assert.equal((await resolveWorkerSettings({ settings: file }, { SWITCHYARD_STAGING_DIR: '/from/old' })).stagingDir, '/from/old');
    assert.equal((await resolveWorkerSettings({ settings: file }, {})).stagingDir, '/from/section');
    assert.equal((await resolveWorkerSettings({ settings: file }, {})).stagingMemoryBytes, 7, 'the top level fills what the section leaves out');
    assert.equal((await resolveWorkerSettings({}, { SWITCHYARD_SETTINGS: file })).stagingDir, '/from/section', 'SWITCHYARD_SETTINGS names the file too');
  });

  it('names the key and where a bad value came from', async () => {
    await assert.rejects(resolveWorkerSettings({}, { SWITCHYARD_STAGING_MEMORY_BYTES: 'lots' }),
      settingsError(/worker\.stagingMemoryBytes \(from environment variable SWITCHYARD_STAGING_MEMORY_BYTES\)/));
    await assert.rejects(resolveWorkerSettings({}, { SWITCHYARD_WORKER_QUEUE_DURABLE: 'maybe' }),
      settingsError(/worker\.queueDurable \(from environment variable SWITCHYARD_WORKER_QUEUE_DURABLE\): must be true or false/));
    await assert.rejects(resolveWorkerSettings({ queueArguments: '{not json' }, {}),
      settingsError(/worker\.queueArguments \(from flag --queue-arguments\): must be a JSON object/));
    await assert.rejects(resolveWorkerSettings({ stagingMemoryBytes: '-1' }, {}),
      settingsError(/worker\.stagingMemoryBytes \(from flag --staging-memory-bytes\)/));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'worker:\n  stagingDir: ""\n  stagingMemoryBytez: 3\n');
    await assert.rejects(resolveWorkerSettings({ settings: file }, {}), (err: Error & { code?: string }) => {
      settingsError(/worker\.stagingDir \(from settings file .*bad\.yaml\)/)(err);
      assert.match(err.message, /unknown setting\(s\) worker\.stagingMemoryBytez/);
      return true;
    });
  });
});
