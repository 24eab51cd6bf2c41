// The bus tools and API services through the CLI, as a user runs them: on the embedded
// memory bus and on a real Redis.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT, cleanEnv, killAll, requireBuild, runCli, start, waitFor } from './cli-helpers.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

requireBuild();
after(killAll);

const AUTH = 'examples/auth-bus/auth-service.ts';
const WELCOME = 'examples/auth-bus/welcome-service.ts';

describe('bus CLI on the embedded default', { timeout: 60_000 }, () => {
  it('prints the bus configuration schema', async () => {
    const r = await runCli(['config', 'schema']);
    assert.equal(r.code, 0, r.stderr);
    const schema = JSON.parse(r.stdout);
    assert.equal(schema.title, 'Switchyard bus configuration');
    assert.ok(schema.properties.apis);
  });

  it('dumps the schema of the APIs a module declares', async () => {
    const r = await runCli(['schema', 'dump', '--module', 'examples/auth-bus/api.ts']);
    assert.equal(r.code, 0, r.stderr);
    const dump = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(dump['my_company.auth'].rpcs).sort(), ['check_password', 'register']);
    assert.equal(dump['my_company.auth'].events.user_registered.parameters.title, 'Event my_company.auth.user_registered parameters');
  });

  it('runs the two example services in one process: RPCs served, events listened to', async () => {
    const cli = start(['run', AUTH, WELCOME, '--log-level', 'info']);
    await waitFor(() => `welcome e-mails in:\n${cli.stdout()}\n${cli.stderr()}`, () => /welcome e-mail to user2@example.com/.test(cli.stdout()), 15_000);
    assert.match(cli.stdout(), /registered user1/);
    cli.kill('SIGTERM');
    const exit = await cli.exited;
    assert.equal(exit.code, 0);
    assert.match(cli.stdout(), /bus stopped/);
  });

  it('says which config key is wrong', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sy-bus-cli-'));
    try {
      await writeFile(join(dir, 'bus.yaml'), 'apis:\n  default:\n    rpc_timeout: soon\n');
      const r = await runCli(['run', AUTH, '--bus-config', join(dir, 'bus.yaml')]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /SY_ERR_SETTINGS.*apis.default.rpc_timeout \(from bus config .*bus.yaml\): expected number, got string/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('bus CLI on Redis', { timeout: 90_000 }, () => {
  let redis: RedisServer;
  let dir: string;
  let config: string;
  before(async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'sy-bus-cli-'));
    config = join(dir, 'bus.yaml');
    await writeFile(
      config,
      `service_name: cli_test\nbus:\n  schema:\n    transport: { redis: { url: "${redis.url}" } }\napis:\n  default:\n    event_transport: { redis: { url: "${redis.url}" } }\n`,
    );
  });
  after(async () => {
    killAll();
    await redis.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves in one process, and inspect, shell, schema dump and load work from others', async () => {
    const service = start(['run', AUTH, '--bus-config', config, '--log-level', 'info']);
    await waitFor(() => `bus started in:\n${service.stdout()}${service.stderr()}`, () => /bus started/.test(service.stdout()), 15_000);

    // The shell calls an RPC of an API it has no code of, validated against the schema on the bus.
    const shell = spawn(process.execPath, [BIN, 'shell', '--bus-config', config], { cwd: ROOT, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let shellOut = '';
    shell.stdout.setEncoding('utf8').on('data', (d: string) => (shellOut += d));
    shell.stderr.setEncoding('utf8').on('data', (d: string) => (shellOut += d));
    shell.stdin.write("await bus.api('my_company.auth').call('register', { username: 'zed', email: 'zed@example.com' })\n");
    await waitFor(() => `the RPC result in the shell:\n${shellOut}`, () => /\{ id: 1 \}/.test(shellOut), 15_000);
    shell.stdin.write("await bus.api('my_company.auth').call('register', { username: 'bad' }).catch((e) => e.message)\n");
    await waitFor(() => `the validation error in the shell:\n${shellOut}`, () => /expected string/.test(shellOut), 15_000);
    shell.stdin.write('.exit\n');
    const shellExit = await new Promise<number | null>((resolve) => shell.once('close', resolve));
    assert.equal(shellExit, 0, shellOut);
    assert.match(shellOut, /\{ id: 1 \}/);
    assert.match(shellOut, /field "email": expected string, got undefined/);

    const inspect = await runCli(['inspect', '--bus-config', config]);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.match(inspect.stdout, /API my_company.auth \(schema on the bus\)/);
    assert.match(inspect.stdout, /rpcs: {3}register, check_password|rpcs: {3}check_password, register/);
    assert.match(inspect.stdout, /stream my_company.auth.\*:stream/);
    assert.match(inspect.stdout, /recent .* my_company.auth.user_registered \{"email":"zed@example.com","id":1,"username":"zed"\}/);

    const dumpDir = join(dir, 'schemas');
    await (await import('node:fs/promises')).mkdir(dumpDir);
    const dump = await runCli(['schema', 'dump', '--bus-config', config, '--out', dumpDir]);
    assert.equal(dump.code, 0, dump.stderr);
    const saved = JSON.parse(await readFile(join(dumpDir, 'my_company.auth.json'), 'utf8'));
    assert.ok(saved.rpcs.register);

    // Load a schema of an API nobody serves: clients can validate against it.
    await writeFile(join(dir, 'extra.json'), JSON.stringify({ 'billing.invoices': { rpcs: {}, events: { paid: { parameters: { type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'] } } } } }));
    const load = await runCli(['schema', 'load', join(dir, 'extra.json'), '--bus-config', config, '--ttl', '60']);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /stored 1 API schema\(s\) on the bus for 60 s: billing.invoices/);
    const again = await runCli(['inspect', '--bus-config', config, '--json']);
    const report = JSON.parse(again.stdout);
    assert.ok(report.apis.some((a: { name: string; events: string[] }) => a.name === 'billing.invoices' && a.events.includes('paid')));

    service.kill('SIGTERM');
    assert.equal((await service.exited).code, 0);
  });
});
