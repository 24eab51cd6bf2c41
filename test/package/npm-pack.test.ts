// The package as a user gets it: `npm pack`, installed into a new project of its own, and
// docs/getting-started.md followed to the letter — its files are taken from the guide's code
// blocks (```lang file=PATH), its `npm pkg set` lines are run, and every command it shows is
// run from the project (each must appear in the guide verbatim), so the guide cannot drift.
//
// No network: the project's package-lock.json is made from this repository's lock, and
// `npm ci --offline` takes every tarball from npm's cache, which this repository's own
// `npm ci` filled (test/package/offline-install.ts).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { offlineProject } from './offline-install.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const GUIDE = readFileSync(join(ROOT, 'docs', 'getting-started.md'), 'utf8');

/** The guide's code blocks: their language, `file=` target, and text. */
function blocks(): { lang: string; file?: string; text: string }[] {
  return [...GUIDE.matchAll(/^```(\w*)([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => {
    const file = /\bfile=(\S+)/.exec(m[2]!)?.[1];
    return { lang: m[1]!, ...(file ? { file } : {}), text: m[3]! };
  });
}

/** Asserts the guide shows `command` in a sh block, and returns it. */
function guideCommand(command: string): string {
  const shown = blocks().filter((b) => b.lang === 'sh').some((b) => b.text.split('\n').includes(command));
  assert.ok(shown, `docs/getting-started.md shows the command: ${command}`);
  return command;
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}

const children = new Set<ChildProcess>();
function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // gone
  }
}

interface Run {
  child: ChildProcess;
  out(): string;
  exited: Promise<number | null>;
}

/** Runs a shell command line in the project, in a process group of its own (killed by PID in `after`). */
function sh(project: string, line: string, env: Record<string, string> = {}): Run {
  const child = spawn('/bin/sh', ['-c', line], { cwd: project, env: { ...process.env, ...env, npm_config_offline: 'true', npm_config_update_notifier: 'false' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((ok) => child.once('close', (code) => {
    children.delete(child);
    ok(code);
  }));
  return { child, out: () => out, exited };
}

async function until(what: () => string, check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `line` to its end within `ms`; returns its output, asserting exit code 0. */
async function complete(project: string, line: string, ms: number, env: Record<string, string> = {}): Promise<string> {
  const run = sh(project, line, env);
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([run.exited, new Promise<'timeout'>((ok) => (timer = setTimeout(() => ok('timeout'), ms)))]);
  clearTimeout(timer);
  if (code === 'timeout') killGroup(run.child);
  assert.equal(code, 0, `${line}\n${run.out()}`);
  return run.out();
}

// The checks are independent (own ports, socket folders, processes): run at once to keep the file's wall time down.
describe('the packed package in a new project, following docs/getting-started.md', { timeout: 240_000, concurrency: true }, () => {
  const work = mkdtempSync(join(tmpdir(), 'sy-npm-pack-'));
  const project = join(work, 'my-services');
  let installLog = '';

  before(async () => {
    assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'dist/ is missing: run `npm run build` first');
    // The build is the suite's (npm test builds first): --ignore-scripts skips `prepare`.
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(pack.status, 0, pack.stderr);
    const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
    const files = spawnSync('tar', ['tzf', tarball], { encoding: 'utf8' }).stdout;
    for (const shipped of ['package/docs/getting-started.md', 'package/bin/switchyard.js', 'package/dist/index.js', 'package/examples/text-pipeline/sysmap.yaml']) {
      assert.ok(files.includes(shipped), `the tarball holds ${shipped}`);
    }
    mkdirSync(project);
    // The guide's installs: switchyardjs and zod, fastify and its swagger packages (the task
    // service), typescript and @types/node (type-checking); at this repository's versions.
    const { packageJson, lock } = offlineProject(ROOT, tarball, {
      dependencies: ['zod', 'fastify', '@fastify/swagger', '@fastify/swagger-ui'],
      devDependencies: ['typescript', '@types/node'],
    });
    writeFileSync(join(project, 'package.json'), JSON.stringify(packageJson, null, 2));
    writeFileSync(join(project, 'package-lock.json'), JSON.stringify(lock, null, 2));
    // Every `npm pkg set` of the guide (type=module, the scripts, the light-my-request pin).
    for (const b of blocks().filter((x) => x.lang === 'sh')) {
      for (const line of b.text.split('\n').filter((l) => l.startsWith('npm pkg set '))) await complete(project, line, 30_000);
    }
    const install = sh(project, 'npm ci --offline --no-audit --no-fund --loglevel=warn');
    const code = await install.exited;
    installLog = install.out();
    assert.equal(code, 0, `npm ci --offline failed; if a package is not cached, run \`npm ci\` in ${ROOT} first (it fills npm's cache):\n${installLog}`);
    for (const b of blocks()) {
      if (!b.file) continue;
      mkdirSync(dirname(join(project, b.file)), { recursive: true });
      writeFileSync(join(project, b.file), b.text);
    }
  });

  after(() => {
    for (const child of children) killGroup(child);
    rmSync(work, { recursive: true, force: true });
  });

  it('installs on Node 20 without an engine warning, and the package is ESM as the guide says', () => {
    assert.doesNotMatch(installLog, /EBADENGINE/, installLog);
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { type?: string };
    assert.equal(pkg.type, 'module');
    assert.ok(existsSync(join(project, 'node_modules', '.bin', 'switchyard')), 'the switchyard command is in node_modules/.bin');
    // The optional adapters the guide did not install are not there.
    for (const absent of ['amqplib', 'ioredis', 'zeromq', '@aws-sdk/client-s3']) assert.equal(existsSync(join(project, 'node_modules', absent)), false, `${absent} is not installed`);
  });

  it('a queue worker: npm run worker (switchyard dev worker --until-idle)', async () => {
    guideCommand('npm pkg set scripts.worker="switchyard dev worker --until-idle"');
    const out = await complete(project, guideCommand('npm run worker'), 60_000);
    assert.match(out, /upper\s+#1 done in [\d.]+ ms: #1 \(case true\) → upper-done\s+\[wrote shouted\/1\]/, out);
    assert.equal(readFileSync(join(project, '.switchyard', 'storage', 'shouted', '1'), 'utf8'), 'HELLO FROM A WORKER\n');
  });

  it('an API: an RPC answered and an event heard', async () => {
    const run = sh(project, guideCommand('npx switchyard run api/calc.ts --service-name calc-demo'));
    try {
      await until(() => run.out(), () => /event added: sum=5/.test(run.out()) || run.child.exitCode !== null, 30_000);
      assert.match(run.out(), /rpc add\(2, 3\) = 5/);
      assert.match(run.out(), /event added: sum=5/);
    } finally {
      killGroup(run.child, 'SIGTERM');
    }
  });

  it('a service with connections: a request to its own replyer in main mode', async () => {
    const out = await complete(project, guideCommand('npx switchyard service -s service/greeter.ts -a service/addresses.json -m --transport memory'), 30_000);
    assert.match(out, /reply: \{"greeting":"hello, switchyard"\}/, out);
  });

  it('a task service: GET /status answers', async () => {
    const port = await freePort();
    const line = guideCommand('SERVICE_PORT=9090 npx switchyard run task/words.ts').replace('9090', String(port));
    const run = sh(project, line);
    try {
      let status = '';
      await until(() => `${status} ${run.out()}`, async () => {
        if (run.child.exitCode !== null) return true;
        status = await fetch(`http://127.0.0.1:${port}/status`).then((r) => r.text(), () => '');
        return status !== '';
      }, 30_000);
      guideCommand('curl http://127.0.0.1:9090/status');
      assert.equal(status, '{"status":"Service is available"}', run.out());
      assert.ok(GUIDE.includes(status), 'the guide shows the answer');
    } finally {
      killGroup(run.child, 'SIGTERM');
    }
  });

  it('a provider: a request answered over unix sockets', async () => {
    const sockets = join(work, 'sockets');
    const serve = sh(project, guideCommand('npx switchyard provider run provider/hello.ts -s /tmp/my-services-sockets').replace('/tmp/my-services-sockets', sockets));
    try {
      await until(() => serve.out(), () => /serving/.test(serve.out()) || serve.child.exitCode !== null, 30_000);
      const out = await complete(project, guideCommand(`npx switchyard provider request Hello '{"name":"provider"}' -s /tmp/my-services-sockets`).replace('/tmp/my-services-sockets', sockets), 30_000);
      assert.match(out, /"result":\{"greeting":"hello, provider"\}/, out);
    } finally {
      killGroup(serve.child, 'SIGTERM');
    }
  });

  it('the guide\'s tsconfig type-checks every service (npx tsc)', async () => {
    await complete(project, guideCommand('npx tsc'), 90_000);
  });

  it('an adapter that is not installed is named with its npm install', async () => {
    const run = sh(project, 'npx switchyard run worker/upper.ts --map worker/sysmap.yaml --transport amqp --amqp-url amqp://127.0.0.1:1');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([run.exited, new Promise<'timeout'>((ok) => (timer = setTimeout(() => ok('timeout'), 30_000)))]);
    clearTimeout(timer);
    killGroup(run.child);
    assert.notEqual(code, 0, run.out());
    assert.match(run.out(), /SY_ERR_ADAPTER_MISSING: .*npm install amqplib/, run.out());
  });
});
