import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envName, loadSettings } from '../../src/cli/settings.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-settings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('settings', () => {
  it('names environment variables SWITCHYARD_*', () => {
    assert.equal(envName('configHost'), 'SWITCHYARD_CONFIG_HOST');
    assert.equal(envName('metricsPort'), 'SWITCHYARD_METRICS_PORT');
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
    assert.throws(() => loadSettings({ settings: file }, {}), /unknown setting\(s\) logLevle; known: .*logLevel/);
  });

  it('a missing or malformed settings file is a settings error naming it', () => {
    assert.throws(() => loadSettings({ settings: join(dir, 'nope.yaml') }, {}), /cannot read settings file .*nope\.yaml: ENOENT/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, '- just\n- a list\n');
    assert.throws(() => loadSettings({ settings: bad }, {}), /must hold a mapping/);
  });
});
