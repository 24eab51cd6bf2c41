// `switchyard service` as a user runs it (the built package, a child process per service, real
// ZeroMQ on loopback ports 17660-17679): the original's flags, config file merged with extra
// --key value pairs, a replyer answering this test, main mode, SIGINT running the service's
// handler, and usage errors. Every child is killed by PID in `after`.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { killAll, requireBuild, runCli, start, tempDir, waitFor, ROOT } from '../cli/cli-helpers.js';
import { startService, service, replyer, requester, t } from '../../src/models/service/mod.js';
import { ZeroMqSockets } from '../../src/transports/zeromq/mod.js';

const T = { timeout: 30_000 };
const MOD = JSON.stringify(join(ROOT, 'dist', 'models', 'service', 'mod.js'));

const REPLYER = `
import { writeFileSync } from 'node:fs';
import { service, replyer, t } from ${MOD};

export default service({
  config: { required: { greeting: t.str, punctuation: t.str }, optional: { marker: t.str } },
  connections: {
    in: {
      greet: replyer(
        { requiredArguments: { name: t.str }, requiredReturnArguments: { text: t.str } },
        (args, _toSend, _states, config) => ({ text: config.greeting + ' ' + args.name + config.punctuation }),
      ),
    },
  },
  sigintHandler: (signal, _toSend, _states, config) => {
    writeFileSync(String(config.marker), JSON.stringify({ signal, greeting: config.greeting }));
  },
});
`;

const LEADING = `
import { service, requester, t } from ${MOD};

export default service({
  config: { required: { count: t.str } },
  connections: { out: { add: requester({ requiredArguments: { n: t.int }, requiredReturnArguments: { n: t.int } }) } },
  main: async (toSend, config) => {
    let total = 0;
    for (let n = 0; n < Number(config.count); n++) total += Number((await toSend('connection', 'add', { n })).n);
    console.log('TOTAL ' + total);
  },
});
`;

const EXTERNAL = `
import { service, externalRequest, t } from ${MOD};

export default service({
  connections: { out: { add: externalRequest({ requiredArguments: { a: t.int, b: t.int }, requiredReturnArguments: { sum: t.int } }, (x) => ({ sum: Number(x.a) + Number(x.b) })) } },
  main: async (toSend) => {
    console.log('SUM ' + (await toSend('connection', 'add', { a: 2, b: 40 })).sum);
  },
});
`;

describe('switchyard service (CLI)', () => {
  let dir: string;
  let remove: () => Promise<void>;
  before(async () => {
    requireBuild();
    ({ dir, remove } = await tempDir('switchyard-service-'));
    await writeFile(join(dir, 'replyer.mts'), REPLYER);
    await writeFile(join(dir, 'leading.mts'), LEADING);
    await writeFile(join(dir, 'external.mts'), EXTERNAL);
  });
  after(async () => {
    killAll();
    await remove();
  });

  it('runs a replyer from -s/-a/-c with extra --key value pairs merged into the config; SIGINT runs its handler, exit 0', T, async () => {
    const address = '127.0.0.1:17660';
    const marker = join(dir, 'sigint.json');
    await writeFile(join(dir, 'addresses.json'), JSON.stringify({ connections: { in: { greet: { replyer: address } }, out: {} }, states: { in: {}, out: {} } }));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ greeting: 'hello', punctuation: '?' }));
    const svc = start(['service', '-s', 'replyer.mts', '-a', 'addresses.json', '-c', 'config.json', '-cl', 'INFO', '--punctuation', '!', '--marker', marker], { cwd: dir });
    const sockets = new ZeroMqSockets();
    try {
      const caller = await startService(service({ connections: { out: { greet: requester({ requiredArguments: { name: t.str }, requiredReturnArguments: { text: t.str } }) } } }),
        { sockets, addresses: { connections: { out: { greet: { requester: address } } } } });
      // The request waits in ZeroMQ until the service has bound its replyer.
      assert.deepEqual(await caller.toSend('connection', 'greet', { name: 'ada' }), { text: 'hello ada!' });
      await caller.stop();
    } finally {
      await sockets.close();
    }
    await waitFor(() => `service started\n${svc.stdout()}${svc.stderr()}`, () => svc.stdout().includes('service started'));
    svc.kill('SIGINT');
    const exit = await svc.exited;
    assert.equal(exit.code, 0, svc.stderr());
    assert.deepEqual(JSON.parse(await readFile(marker, 'utf8')), { signal: 'SIGINT', greeting: 'hello' });
  });

  it('main mode (-m): main sends its requests, prints, and the process exits 0 by itself', T, async () => {
    const address = '127.0.0.1:17661';
    const sockets = new ZeroMqSockets();
    const server = await startService(service({
      connections: { in: { add: replyer({ requiredArguments: { n: t.int }, requiredReturnArguments: { n: t.int } }, (a) => ({ n: Number(a.n) * 10 })) } },
    }), { sockets, addresses: { connections: { in: { add: { replyer: address } } } } });
    try {
      await writeFile(join(dir, 'leading-addresses.json'), JSON.stringify({ connections: { out: { add: { requester: address } } } }));
      const r = await runCli(['service', '--service_path', 'leading.mts', '--addresses_path', 'leading-addresses.json', '-m', '--count', '4'], { cwd: dir });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /TOTAL 60/);
    } finally {
      await server.stop();
      await sockets.close();
    }
  });

  it('--transport memory: in-process sockets, no addresses needed for an external request', T, async () => {
    const r = await runCli(['service', '-s', 'external.mts', '-m', '--transport', 'memory'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /SUM 42/);
  });

  it('-l DIR writes the log to DIR/<service>.log at -f\'s level while -cl filters the console', T, async () => {
    const logs = join(dir, 'logs');
    const r = await runCli(['service', '-s', 'external.mts', '-m', '--transport', 'memory', '-l', logs, '-f', 'DEBUG', '-cl', 'ERROR'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.doesNotMatch(r.stdout, /service started/);
    const file = await readFile(join(logs, 'external.log'), 'utf8');
    assert.match(file, /"msg":"service started"/);
    assert.match(file, /"msg":"service stopped"/);
  });

  it('usage and configuration errors: odd extra arguments, a config failing the model, no main in main mode', T, async () => {
    const odd = await runCli(['service', '-s', 'leading.mts', '-m', '--count'], { cwd: dir });
    assert.equal(odd.code, 2);
    assert.match(odd.stderr, /extra arguments come in "--key value" pairs, got 1/);
    const missing = await runCli(['service', '-s', 'leading.mts', '-m'], { cwd: dir });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /config is not valid: field "count": expected str \(required\)/);
    const noMain = await runCli(['service', '-s', 'replyer.mts', '-m', '--greeting', 'a', '--punctuation', 'b'], { cwd: dir });
    assert.equal(noMain.code, 2);
    assert.match(noMain.stderr, /has no main function/);
    const badSize = await runCli(['service', '-s', 'leading.mts', '-m', '--count', '1', '--max-message-size', '0'], { cwd: dir });
    assert.equal(badSize.code, 2);
    assert.match(badSize.stderr, /SY_ERR_SETTINGS: invalid settings: service\.maxMessageSize \(from flag --max-message-size\): must be a whole number of bytes ≥ 1, or -1 for no limit/);
    const help = await runCli(['service', '--help'], { cwd: dir });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--max-message-size <bytes>/);
    assert.match(help.stdout, /--console-loglevel <level>\s+console log level, also -cl/);
    assert.match(help.stdout, /--key value pair is added to the config/);
  });
});
