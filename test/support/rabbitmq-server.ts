// A real RabbitMQ for tests: the Debian package's server binary started directly (no
// systemd, no rabbitmq user), on 127.0.0.1 and a port of our own, its data in a temp
// folder, stopped by PID. Recipe: ../shared/SERVERS.md. One broker per test file; a
// restart keeps the data (same folder, same node name) for broker-restart fault tests.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

export interface RabbitMq {
  readonly url: string;
  readonly port: number;
  /** Stops the broker (SIGTERM, then SIGKILL after a while); data stays for restart(). */
  stop(): Promise<void>;
  /** Starts it again with the same data and port. */
  start(): Promise<void>;
  /** Stops it for good and removes its folder and its epmd. */
  destroy(): Promise<void>;
}

export function rabbitMqInstalled(): boolean {
  return existsSync(SERVER);
}

/** For a test file that needs a broker: fails (never skips) with the install command when there is none. */
export function requireRabbitMq(): void {
  if (!rabbitMqInstalled()) throw new Error(`${SERVER} is missing: install RabbitMQ with \`apt-get install -y rabbitmq-server\` (or run \`node scripts/test-deps.mjs\`)`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts a broker and resolves once it accepts AMQP connections. */
export async function startRabbitMq(): Promise<RabbitMq> {
  const base = await mkdtemp(join(tmpdir(), 'sy-rmq-'));
  await mkdir(join(base, 'mnesia'), { recursive: true });
  await mkdir(join(base, 'log'), { recursive: true });
  await writeFile(join(base, 'enabled_plugins'), '[].\n');
  let port = 0;
  let env: NodeJS.ProcessEnv = {};
  let url = '';
  /** A free port for the broker (fixed once it has started: restarts reuse it). */
  const choosePort = async () => {
    // Node and distribution ports must both be free; the dist port is port + 20000.
    port = 0;
    for (let i = 0; i < 20 && (port === 0 || port + 20000 > 65535); i++) port = await freePort();
    await writeFile(join(base, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\nloopback_users = none\n`);
    env = {
      ...process.env,
      HOME: base,
      RABBITMQ_NODENAME: `sy${port}@localhost`,
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(port + 20000),
      RABBITMQ_MNESIA_BASE: join(base, 'mnesia'),
      RABBITMQ_LOG_BASE: join(base, 'log'),
      RABBITMQ_CONFIG_FILE: join(base, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(base, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(base, 'rabbit.pid'),
      // A broker killed by a test may leave a crash dump: in its own folder, not the repository.
      ERL_CRASH_DUMP: join(base, 'erl_crash.dump'),
      RABBITMQ_CONF_ENV_FILE: '/dev/null',
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
    url = `amqp://guest:guest@127.0.0.1:${port}`;
  };
  let child: ChildProcess | undefined;
  /** Whether the broker stopped because its port was taken (launching it again on that port is futile). */
  const portTaken = async () => (await readFile(join(base, 'erl_crash.dump'), 'utf8').catch(() => '')).includes('eaddrinuse');

  const start = async () => {
    const deadline = Date.now() + 60_000;
    // The launcher script has been seen to exit 0 at once, writing no log, while another
    // suite's broker started at the same moment (the full suite runs two files at a time):
    // launched again, at most 3 times, within the same 60 s.
    for (let launch = 1; ; launch++) {
      child = spawn(SERVER, [], { env, stdio: 'ignore', detached: true });
      for (;;) {
        try {
          const c = await connect(url);
          await c.close();
          return;
        } catch {
          if (child.exitCode !== null) break;
          if (Date.now() > deadline) throw new Error(`RabbitMQ did not accept connections on ${port} within 60 s; see ${join(base, 'log')}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      if (launch >= 3 || Date.now() > deadline || (await portTaken())) throw new Error(`rabbitmq-server exited with ${child.exitCode} (launched ${launch} times); see ${join(base, 'log')}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  const stop = async () => {
    const pid = await readFile(join(base, 'rabbit.pid'), 'utf8').then((t) => Number(t.trim())).catch(() => undefined);
    const targets = [pid, child?.pid].filter((p): p is number => typeof p === 'number' && p > 0);
    for (const p of targets) signal(p, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (targets.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const p of targets) if (alive(p)) signal(p, 'SIGKILL');
    // The wrapper's process group may hold helpers (erl_child_setup, inet_gethost).
    if (child?.pid) signal(-child.pid, 'SIGKILL');
    child = undefined;
  };

  // A port found free can be taken by another suite's process before the broker binds it
  // (seen once in a full run: could_not_start_listener … eaddrinuse on all three launches):
  // the first start tries another port, up to three.
  for (let attempt = 1; ; attempt++) {
    await choosePort();
    try {
      await start();
      break;
    } catch (err) {
      if (attempt >= 3 || !(await portTaken())) throw err;
      await rm(join(base, 'erl_crash.dump'), { force: true });
    }
  }
  return {
    url,
    port,
    start,
    stop,
    destroy: async () => {
      await stop();
      // The node started `epmd -daemon`, which outlives it: stop ours, found by its port file-less name.
      await killEpmd(env);
      await rm(base, { recursive: true, force: true });
    },
  };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** epmd outlives the node; ask it to stop when it has no more nodes registered. */
async function killEpmd(env: NodeJS.ProcessEnv): Promise<void> {
  await new Promise<void>((resolve) => {
    const p = spawn('epmd', ['-names'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', () => resolve());
    p.on('exit', () => {
      // Only stop epmd when no other node (another test file's broker) is registered.
      if (!/name \S+ at port/.test(out)) spawn('epmd', ['-kill'], { env, stdio: 'ignore' }).on('error', () => undefined).on('exit', () => resolve());
      else resolve();
    });
  });
}
