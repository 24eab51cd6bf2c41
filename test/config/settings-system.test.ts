import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineSection, envLayer, envNameOf, fileLayer, flagLayer, flagNameOf, resolveSettings } from '../../src/config/settings/settings.js';

const top = defineSection('', z.object({ logLevel: z.enum(['info', 'debug']).default('info'), stateDir: z.string().default('.switchyard') }));
const task = defineSection('task', z.object({ port: z.coerce.number().int().min(0).max(65535).default(9090), maxTasks: z.coerce.number().int().min(1).default(50) }), { port: 'SERVICE_PORT', maxTasks: 'MAX_TASKS' });
const sections = [top, task] as const;

describe('the one settings system', () => {
  it('spells env names and flags from section and key', () => {
    assert.equal(envNameOf('', 'logLevel'), 'SWITCHYARD_LOG_LEVEL');
    assert.equal(envNameOf('provider', 'socket_dir'), 'SWITCHYARD_PROVIDER_SOCKET_DIR');
    assert.equal(flagNameOf('task', 'maxTasks'), '--task-max-tasks');
  });

  it('defaults, then file, then env (ours over the original\'s name), then flags', () => {
    const defaults = resolveSettings(sections, []);
    assert.deepEqual(defaults, { '': { logLevel: 'info', stateDir: '.switchyard' }, task: { port: 9090, maxTasks: 50 } });
    const file = fileLayer(sections, { logLevel: 'debug', task: { port: 1000, maxTasks: 7 } }, 's.yaml');
    const env = envLayer(sections, { SERVICE_PORT: '2000', SWITCHYARD_TASK_MAX_TASKS: '8', MAX_TASKS: '9' });
    const flags = flagLayer({ task: { port: '3000' } });
    const s = resolveSettings(sections, [flags, env, file]);
    assert.equal(s[''].logLevel, 'debug');
    assert.equal(s.task.port, 3000);
    assert.equal(s.task.maxTasks, 8);
    assert.equal(resolveSettings(sections, [env, file]).task.port, 2000);
  });

  it('names the key, its source and spelling, for every problem at once', () => {
    const env = envLayer(sections, { SERVICE_PORT: '70000' });
    const file = fileLayer(sections, { logLevel: 'loud', task: { maxTask: 3 } }, 'bad.yaml');
    assert.throws(() => resolveSettings(sections, [env, file]), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SY_ERR_SETTINGS');
      assert.match(err.message, /task\.port \(from environment variable SERVICE_PORT\)/);
      assert.match(err.message, /logLevel \(from settings file bad\.yaml\)/);
      assert.match(err.message, /unknown setting\(s\) task\.maxTask \(from settings file bad\.yaml\); known: task\.port, task\.maxTasks/);
      return true;
    });
    assert.throws(() => resolveSettings(sections, [flagLayer({ task: { port: 'x' } })]), /task\.port \(from flag --task-port\)/);
    assert.throws(() => resolveSettings(sections, [fileLayer(sections, { task: 5 }, 'f.yaml')]), /task \(from settings file f\.yaml\): must be a mapping/);
  });
});
