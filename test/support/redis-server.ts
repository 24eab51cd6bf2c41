// A real Redis for tests: the Debian package's redis-server started as a child process on
// 127.0.0.1 and a port of our own, its files in a temp folder, stopped by PID. Recipe:
// ../shared/SERVERS.md. One server per test file; restart() (stop, then start on the same
// port and folder) serves server-restart fault tests. With `appendOnly` the server writes
// every command to its append-only file before answering (appendfsync always), so a
// restart, even after SIGKILL, loses nothing it acknowledged.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Redis } from 'ioredis';

const SERVER = '/usr/bin/redis-server';

/** Loopback ports of this area (issue 4, Redis): 17800-17899. */
const PORT_RANGE = { first: 17800, last: 17899 };

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** Stops the server by its PID: SIGTERM (clean), or SIGKILL with { kill: true }. */
  stop(options?: { kill?: boolean }): Promise<void>;
  /** Starts it again on the same port with the same folder. */
  start(): Promise<void>;
  /** stop(), then start(). */
  restart(options?: { kill?: boolean }): Promise<void>;
  /** Stops it for good and removes its folder. */
  destroy(): Promise<void>;
}

export interface RedisServerOptions {
  /** Keep data across restarts in an append-only file synced on every write. Default false. */
  readonly appendOnly?: boolean;
  /** Require this password (requirepass); the url then carries it. */
  readonly password?: string;
}

export function redisInstalled(): boolean {
  return existsSync(SERVER);
}

/** True when something accepts TCP connections on the port. */
function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Asks the server on the port for its process id (INFO server over a plain socket): true
 * once it answers with `pid`. Another test file's server that took the port first answers
 * with its own pid, so it is never mistaken for ours.
 */
function answersAs(port: number, pid: number, password?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(500, () => done(false));
    // PING answers -LOADING while an append-only file is still being read: not ready yet.
    socket.once('connect', () => socket.write(`${password ? `AUTH ${password}\r\n` : ''}INFO server\r\nPING\r\n`));
    socket.on('data', (d: Buffer) => {
      answer += d.toString();
      const m = /process_id:(\d+)\r\n/.exec(answer);
      if (m && Number(m[1]) !== pid) done(false);
      else if (m && /\r\n\+PONG\r\n$/.test(answer)) done(true);
      else if (/\r\n-[A-Z]+[^\r]*\r\n$/.test(answer)) done(false);
    });
    socket.once('error', () => done(false));
  });
}

// Servers still running when this process exits (a test crashed) are killed by PID, not left behind.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of live) proc.kill('SIGKILL');
});

// Test files run in parallel processes: start at a port picked by pid, and move on when taken.
let nextOffset = process.pid % (PORT_RANGE.last - PORT_RANGE.first + 1);

/** Starts a server and resolves once it answers PING (and is the process we started). */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'sy-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  let log = '';

  const launch = async (): Promise<boolean> => {
    const args = [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no',
      '--save', '', '--logfile', '',
      ...(options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
      ...(options.password ? ['--requirepass', options.password] : []),
    ];
    log = '';
    const proc = spawn(SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    proc.stdout?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    proc.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) return false; // e.g. the port was taken
      if (await answersAs(port, proc.pid!, options.password)) return true;
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${port} within 10 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const stop = async ({ kill = false }: { kill?: boolean } = {}) => {
    const proc = child;
    child = undefined;
    if (!proc?.pid || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill(kill ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  const start = async () => {
    if (!(await launch())) throw new Error(`redis-server exited at start on port ${port}:\n${log}`);
  };

  // Find a free port of our range.
  for (let tries = 0; ; tries++) {
    if (tries > PORT_RANGE.last - PORT_RANGE.first) throw new Error(`no free port in ${PORT_RANGE.first}-${PORT_RANGE.last} for redis-server`);
    port = PORT_RANGE.first + (nextOffset++ % (PORT_RANGE.last - PORT_RANGE.first + 1));
    if (await portTaken(port)) continue;
    if (await launch()) break;
  }

  return {
    url: `redis://${options.password ? `:${encodeURIComponent(options.password)}@` : ''}127.0.0.1:${port}`,
    port,
    get pid() { return child?.pid; },
    start,
    stop,
    restart: async (o) => {
      await stop(o);
      await start();
    },
    destroy: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * For the suite it is called in: a Redis of its own and a raw ioredis client on it, started
 * before its tests and gone after them. Read `server` and `raw` inside tests and hooks.
 */
export function suiteRedis(options: RedisServerOptions = {}): { readonly server: RedisServer; readonly raw: Redis } {
  let server: RedisServer | undefined;
  let raw: Redis | undefined;
  before(async () => {
    server = await startRedis(options);
    raw = new Redis(server.url);
  });
  after(async () => {
    raw?.disconnect();
    await server?.destroy();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('suiteRedis(): used before the suite started');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get raw() {
      return started(raw);
    },
  };
}
