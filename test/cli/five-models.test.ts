// One folder holding one service of each of the five models, started as ONE system by
// `switchyard run` (the modules named) and by `switchyard dev` (the folder): every model's
// components report ready through the one observer stream, work flows where the test can
// drive it (a worker message, an API call its service schedules, a provider request), and
// one /metrics endpoint holds the series of all five.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { coordinatorClient } from '../../src/models/provider/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { shortTempDir } from '../provider/kit.js';
import { jsonLines, killAll, requireBuild, ROOT, runCli, start, waitFor, type Cli } from './cli-helpers.js';

const T = { timeout: 90_000 };
const DIST = join(ROOT, 'dist');
const MODELS = ['worker', 'api', 'service', 'task', 'provider'] as const;

/** A port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const MODULES: Record<string, string> = {
  'upper.mts': `import { worker } from ${JSON.stringify(join(DIST, 'index.js'))};
export default worker('upper', (id) => [[id, true]]);
`,
  'calc.mts': `import { apiService, defineApi, z } from ${JSON.stringify(join(DIST, 'models/api/mod.js'))};
const calc = defineApi({ name: 'calc', rpcs: { add: { params: z.object({ a: z.number(), b: z.number() }), result: z.number() } } });
export default apiService({ calc }, (bus) => {
  bus.serve(calc, { add: ({ a, b }) => a + b });
  // Work of its own, so the API model has calls to count.
  bus.every({ ms: 200 }, async () => { await bus.calc.add({ a: 1, b: 2 }); });
});
`,
  'quotes.mts': `import { service, replyer, t } from ${JSON.stringify(join(DIST, 'models/service/mod.js'))};
export default service({
  name: 'quotes',
  connections: { in: { quote: replyer({ requiredArguments: { symbol: t.str }, requiredReturnArguments: { symbol: t.str } }, (args) => ({ symbol: args.symbol })) } },
});
`,
  'stats.mts': `import { taskService } from ${JSON.stringify(join(DIST, 'models/task/mod.js'))};
export default taskService(
  { name: 'Stats', slug: 'stats', summary: 'counts', description: 'counts the bytes of a text', dataIn: [{ name: 'text', types: ['text/plain'] }], dataOut: [{ name: 'result', types: ['application/json'] }], tags: [], hasAi: false },
  async ({ text }) => ({ result: JSON.stringify({ bytes: (await text.text()).length }) }),
);
`,
  'who.mts': `import { defineProvider } from ${JSON.stringify(join(DIST, 'models/provider/mod.js'))};
export default defineProvider('who', (server) => { server.registerTask('Who', () => ({ service: 'who' })); });
`,
};

const MAP = 'services:\n  upper:\n    in: upper-in\n    out:\n      - { case: true, queues: [upper-out] }\n';

describe('one system of all five models', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  let env: Record<string, string>;
  before(async () => {
    requireBuild();
    tmp = await shortTempDir();
    const folder = join(tmp.dir, 'system');
    await mkdir(folder);
    for (const [name, text] of Object.entries(MODULES)) await writeFile(join(folder, name), text);
    await writeFile(join(folder, 'sysmap.yaml'), MAP);
    env = {
      SWITCHYARD_SERVICE_ADDRESSES: JSON.stringify({ connections: { in: { quote: { replyer: `127.0.0.1:${await freePort()}` } }, out: {} }, states: { in: {}, out: {} } }),
      SERVICE_PORT: String(await freePort()),
      HEARTBEAT_INTERVAL: '0',
      SWITCHYARD_PROVIDER_SOCKET_DIR: join(tmp.dir, 's'),
    };
  });
  after(async () => {
    killAll();
    await tmp?.remove();
  });

  /** Drives the work it can, then checks one /metrics for all five models. */
  async function exercise(cli: Cli, metricsUrl: () => string | undefined, state: string): Promise<void> {
    const info = () => `exited: ${cli.hasExited()}\nstdout:\n${cli.stdout()}\nstderr:\n${cli.stderr()}`;
    const url = await waitFor(() => `the metrics address\n${info()}`, () => metricsUrl(), 45_000);
    const send = await runCli(['send', 'upper-in', '7', '--state-dir', state], { cwd: tmp.dir });
    assert.equal(send.code, 0, send.stderr);
    const client = await coordinatorClient({ socketDir: env.SWITCHYARD_PROVIDER_SOCKET_DIR!, timeoutMs: 10_000, logger: createLogger({ level: 'silent' }) });
    try {
      assert.deepEqual((await client.request('Who')).result, { service: 'who' });
    } finally {
      await client.stop();
    }
    const task = await fetch(`http://127.0.0.1:${env.SERVICE_PORT}/status`);
    assert.equal(task.status, 200, `task service /status\n${info()}`);

    let text = '';
    const series = (name: string, model: string) => new RegExp(`^${name}\\{[^}]*model="${model}"[^}]*\\} [1-9]`, 'm');
    await waitFor(() => `handled work of worker, api and provider in\n${text}\n${info()}`, async () => {
      text = await (await fetch(url)).text();
      return ['worker', 'api', 'provider'].every((m) => series('switchyard_handled_total', m).test(text));
    }, 20_000);
    for (const model of MODELS) assert.match(text, series('switchyard_component_ready', model), `${model} is not ready in /metrics\n${text}`);
  }

  it('switchyard run <five modules> --metrics-port 0', T, async () => {
    const state = join(tmp.dir, 'run-state');
    const folder = join(tmp.dir, 'system');
    const cli = start(['run', ...Object.keys(MODULES).map((m) => join(folder, m)), '--map', join(folder, 'sysmap.yaml'), '--state-dir', state, '--metrics-port', '0'], { cwd: tmp.dir, env });
    await exercise(cli, () => jsonLines(cli.stdout()).find((l) => l.msg === 'metrics served')?.url as string | undefined, state);
    const models = jsonLines(cli.stdout()).find((l) => l.msg === 'running; SIGINT or SIGTERM stops')?.models;
    assert.deepEqual(models, [...MODELS]);
    cli.kill('SIGTERM');
    assert.deepEqual(await cli.exited, { code: 0, signal: null }, cli.stderr());
  });

  it('switchyard dev <folder> --metrics-port 0 prints the flow of every model', T, async () => {
    const state = join(tmp.dir, 'dev-state');
    const cli = start(['dev', join(tmp.dir, 'system'), '--state-dir', state, '--metrics-port', '0'], { cwd: tmp.dir, env });
    await exercise(cli, () => /metrics at (http:\/\/\S+)/.exec(cli.stdout())?.[1], state);
    // The flow: a line per ready component of each model, and the handled work.
    for (const service of ['upper', 'quotes', 'stats', 'who']) assert.match(cli.stdout(), new RegExp(`^${service}\\s+listening on`, 'm'), cli.stdout());
    assert.match(cli.stdout(), /^upper\s+#7 done in/m, cli.stdout());
    cli.kill('SIGINT');
    assert.deepEqual(await cli.exited, { code: 0, signal: null }, cli.stderr());
  });
});
