// The real Python service_framework 0.0.3 as a peer for interop tests: writes a service
// module, its addresses.json and config.json into a temp folder, and runs the unchanged
// framework from ../shared/upstream/service_framework-7ee29d5 with Debian's python3
// (`python3 -m service_framework -s svc.py -a addresses.json -c config.json [-m]`, the
// folder as its working directory, since the framework imports the service path relative to
// it) as a child process group of its own. Stopped by PID (the whole group), also when the
// test process exits early. The framework's loop busy-polls a core: start few of them.
//
// Also: distinct free TCP ports (the framework binds `tcp://*:{port}`, so a port must be
// free on every interface), and the service guide's Python snippet for reading our datetimes.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
export const PEER_MODULE = join(REPO, 'test', 'interop', 'fixtures', 'service_framework_peer.py');
const INSTALL = 'apt-get install -y python3 python3-zmq python3-msgpack';

/**
 * The framework's sources (the folder holding `service_framework/`):
 * $SWITCHYARD_UPSTREAM/service_framework-7ee29d5/src, else the first
 * `shared/upstream/service_framework-7ee29d5/src` beside the repository or one of its parents
 * (the checkout lives at …/main or …/wt/<name> beside …/shared).
 */
export function serviceFrameworkSources(): string {
  const sub = join('service_framework-7ee29d5', 'src');
  const fromEnv = process.env.SWITCHYARD_UPSTREAM;
  const candidates = fromEnv ? [join(fromEnv, sub)] : [];
  for (let dir = REPO; ; dir = dirname(dir)) {
    candidates.push(join(dir, 'shared', 'upstream', sub), join(dir, '..', 'shared', 'upstream', sub));
    if (dirname(dir) === dir) break;
  }
  const found = candidates.find((c) => existsSync(join(c, 'service_framework', '__main__.py')));
  if (!found) {
    throw new Error(`the service_framework 0.0.3 sources were not found (looked in ${[...new Set(candidates)].slice(0, 4).join(', ')}, …): put the upstream folder at ../shared/upstream beside the checkout, or set SWITCHYARD_UPSTREAM to the folder that holds service_framework-7ee29d5/`);
  }
  return found;
}

/** Fails (never skips) when Debian's python3 with pyzmq and msgpack is missing, naming the install. */
export function requirePython(): void {
  const r = spawnSync(PYTHON, ['-c', 'import zmq, msgpack'], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${PYTHON} with pyzmq and msgpack is needed for the service_framework interop tests: ${INSTALL}`);
}

/**
 * `count` distinct TCP ports free on every interface right now (the OS picks them). All are
 * held open until the last is found, so none repeats; a port can still be taken by someone
 * else before the test binds it, which the OS's large ephemeral range makes unlikely.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((ok, fail) => {
        server.once('error', fail);
        server.listen(0, '0.0.0.0', () => ok());
      });
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((ok) => s.close(() => ok()))));
  }
}

/**
 * The service guide's snippet for reading a Switchyard datetime in Python (it was the README's
 * until the docs were split): the ```python block of docs/guides/service.md that defines
 * `read_switchyard_datetime`, or undefined.
 */
export function readmeDatetimeSnippet(): string | undefined {
  const readme = readFileSync(join(REPO, 'docs/guides/service.md'), 'utf8');
  for (const m of readme.matchAll(/```python\n([\s\S]*?)```/g)) {
    if (m[1]!.includes('def read_switchyard_datetime')) return dedent(m[1]!);
  }
  return undefined;
}

/** The lines less their common indentation (a block inside a list item is indented). */
function dedent(text: string): string {
  const lines = text.split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length);
  const cut = Math.min(...indents);
  return lines.map((l) => l.slice(Math.min(cut, /^ */.exec(l)![0].length))).join('\n');
}

export interface PythonServiceOptions {
  /** The service module's source, or the path of a file to copy. */
  readonly module: { readonly source: string } | { readonly file: string };
  /** addresses.json's content (nested, or the flat shape of 0.0.19+). */
  readonly addresses: unknown;
  readonly config?: Record<string, unknown>;
  readonly mainMode?: boolean;
  /** Extra `--key value` arguments (merged into the config by the framework). */
  readonly extra?: readonly string[];
  /** Other files to write beside the module (name → content). */
  readonly files?: Readonly<Record<string, string>>;
  /** Module name (the file is `<name>.py`). Default "sf_peer". */
  readonly name?: string;
}

export interface PythonService {
  readonly pid: number;
  readonly dir: string;
  /** Settles with the exit code (null when killed by a signal) once the process closed. */
  readonly exited: Promise<number | null>;
  /** True until the process exited. */
  running(): boolean;
  /** What the process wrote, stdout and stderr together, the last 8 KB. */
  log(): string;
  /** Kills the process group (SIGKILL) and removes the folder. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killGroup(child);
});

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Writes the files and starts the framework; resolves once the process is spawned. */
export async function startPythonService(options: PythonServiceOptions): Promise<PythonService> {
  requirePython();
  const sources = serviceFrameworkSources();
  const name = options.name ?? 'sf_peer';
  const dir = await mkdtemp(join(tmpdir(), 'sy-sf-peer-'));
  if ('file' in options.module) await copyFile(options.module.file, join(dir, `${name}.py`));
  else await writeFile(join(dir, `${name}.py`), options.module.source);
  for (const [file, content] of Object.entries(options.files ?? {})) await writeFile(join(dir, file), content);
  await writeFile(join(dir, `${name}.addresses.json`), JSON.stringify(options.addresses, null, 2));
  const args = ['-m', 'service_framework', '-s', `${name}.py`, '-a', `${name}.addresses.json`, '-cl', 'WARNING'];
  if (options.config) {
    await writeFile(join(dir, `${name}.config.json`), JSON.stringify(options.config));
    args.push('-c', `${name}.config.json`);
  }
  if (options.mainMode) args.push('-m');
  args.push(...(options.extra ?? []));
  const child = spawn(PYTHON, args, {
    cwd: dir,
    env: { ...process.env, PYTHONPATH: sources, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  let log = '';
  const keep = (d: string) => {
    log = (log + d).slice(-8192);
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  let alive = true;
  const exited = new Promise<number | null>((ok) => {
    child.once('error', (err) => {
      keep(`spawn failed: ${err.message}\n`);
      alive = false;
      live.delete(child);
      ok(null);
    });
    child.once('close', (code) => {
      alive = false;
      live.delete(child);
      ok(code);
    });
  });
  return {
    pid: child.pid ?? -1,
    dir,
    exited,
    running: () => alive,
    log: () => log,
    stop: async () => {
      killGroup(child);
      if (alive) await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Rejects when the peer exits first (with its log), so a crashed peer fails fast, not by timeout. */
export async function whileRunning<T>(peer: PythonService, work: Promise<T>, what: string): Promise<T> {
  let onExit: ((code: number | null) => void) | undefined;
  const died = new Promise<never>((_, fail) => {
    onExit = (code) => fail(new Error(`the Python peer exited (code ${code}) during ${what}:\n${peer.log()}`));
    void peer.exited.then((code) => onExit?.(code));
  });
  died.catch(() => undefined);
  try {
    return await Promise.race([work, died]);
  } finally {
    onExit = undefined;
  }
}
