// Child processes of the peer benchmarks (lightbus, service-framework, go-provider): each
// peer runs in a process group of its own, talks to the benchmark by lines on stdin and
// stdout, and is killed by its group's PID when the benchmark ends — normally, on an
// error, or on SIGINT/SIGTERM — so that no Python, Go or Node peer outlives a run.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export interface Peer {
  readonly name: string;
  readonly pid: number;
  /** Writes one line to the peer's stdin. */
  send(line: string): void;
  /** The next stdout line that `pick` accepts (earlier unread lines it rejects are dropped). */
  expect<T>(pick: (line: string) => T | undefined, what: string, timeoutMs?: number): Promise<T>;
  /** send(line), then expect(pick). */
  ask<T>(line: string, pick: (line: string) => T | undefined, timeoutMs?: number): Promise<T>;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  /** SIGSTOP / SIGCONT to the whole group: a peer that busy-polls while idle is frozen during the other side's rounds. */
  freeze(): void;
  thaw(): void;
  /** SIGKILL to the group; resolves once the leader exited. */
  kill(): Promise<void>;
}

const live = new Set<Peer>();
const folders = new Set<string>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

// Leftovers are killed by PID even when the benchmark dies: 'exit' runs on process.exit()
// and after an uncaught error; a signal is turned into an exit first.
process.once('exit', () => {
  for (const p of live) killGroup(p.pid, 'SIGKILL');
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

export interface PeerOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Default time limit of expect() in ms (the machine is shared and slow at times). */
  timeoutMs?: number;
}

export function startPeer(name: string, command: string, args: string[], options: PeerOptions = {}): Peer {
  const proc: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // its own process group, killed as a whole
  });
  let stderrTail = '';
  proc.on('error', (e) => (stderrTail += `\n${e.message}`)); // e.g. a command that is not installed
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${command} (is it installed?)`);
  const pid = proc.pid;
  proc.stderr!.on('data', (d: Buffer) => (stderrTail = (stderrTail + d.toString()).slice(-3000)));
  proc.stdin!.on('error', () => undefined); // a peer that died is reported by expect()
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    lines.push(line);
    wake?.();
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      live.delete(peer);
      wake?.();
      resolve(exitCode);
    }),
  );
  const limit = options.timeoutMs ?? 120_000;

  const peer: Peer = {
    name,
    pid,
    exited,
    send: (line) => void proc.stdin!.write(`${line}\n`),
    expect: async (pick, what, timeoutMs = limit) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (lines.length > 0) {
          const got = pick(lines.shift()!);
          if (got !== undefined) return got;
        }
        if (exitCode !== undefined) throw new Error(`${name} exited (${exitCode}) while the benchmark waited for ${what}; its stderr ends:\n${stderrTail}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${name} gave no ${what} within ${timeoutMs} ms; its stderr ends:\n${stderrTail}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          };
        });
      }
    },
    ask: (line, pick, timeoutMs) => {
      peer.send(line);
      return peer.expect(pick, `an answer to "${line}"`, timeoutMs);
    },
    freeze: () => killGroup(pid, 'SIGSTOP'),
    thaw: () => killGroup(pid, 'SIGCONT'),
    kill: async () => {
      if (exitCode !== undefined) return;
      killGroup(pid, 'SIGKILL');
      await exited;
    },
  };
  live.add(peer);
  return peer;
}

/** Kills every peer still running (SIGKILL to each group). */
export async function killAllPeers(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()));
}

/** A fresh folder under the OS temp folder, removed when the benchmark exits, however it exits. */
export function tempFolder(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  folders.add(folder);
  return folder;
}

/** A line parsed as JSON when it is a JSON object, else undefined (other output is skipped). */
export function jsonLine<T>(line: string): T | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}

/** A command line that runs a bench/*.ts file in Node with tsx, as the other benchmarks' children. */
export function nodeScript(file: string, args: string[]): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', new URL(file, import.meta.url).pathname, ...args]];
}

/** Debian's interpreter: python3-zmq and python3-msgpack live there, not in a pyenv shim. */
export const PYTHON = '/usr/bin/python3';

/** Fails at once, with the command that installs them, when Debian's python3 lacks these modules. */
export function requirePython(modules: string[], packages: string[]): void {
  const check = spawnSync(PYTHON, ['-c', `import ${['sys', ...modules].join(', ')}; assert (3, 9) <= sys.version_info[:2] <= (3, 11)`], { encoding: 'utf8' });
  if (check.error || check.status !== 0) {
    throw new Error(`${PYTHON} (3.9–3.11${modules.length ? ` with ${modules.join(', ')}` : ''}) is needed: ${(check.error?.message ?? check.stderr).trim().split('\n').at(-1)}\ninstall it with: apt-get install -y ${['python3', ...packages].join(' ')}`);
  }
}

/**
 * A folder of the original systems' code (../shared/upstream beside the repository, as in
 * the main checkout; a worktree one level deeper also finds it), or SWITCHYARD_UPSTREAM.
 */
export function upstreamDir(name: string): string {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  const roots = [process.env.SWITCHYARD_UPSTREAM, resolve(repo, '../shared/upstream'), resolve(repo, '../../shared/upstream')].filter((r): r is string => !!r);
  for (const root of roots) if (existsSync(resolve(root, name))) return resolve(root, name);
  throw new Error(`the original code "${name}" is not in ${roots.join(' or ')}; set SWITCHYARD_UPSTREAM to the folder that holds it (shared/upstream)`);
}
