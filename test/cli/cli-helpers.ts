// Helpers for the CLI tests: they run the built package (bin/switchyard.js → dist/) as a
// child process, the way a user does. Every child is tracked and killed by PID in
// `killAll` (call it from an `after` hook) if a test left it running.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'switchyard.js');
/** The built package's entry, for worker modules written into temp folders. */
export const DIST_INDEX = join(ROOT, 'dist', 'index.js');

/** Fails early with a useful message when the package was not built. */
export function requireBuild(): void {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error(`${join(ROOT, 'dist')} is missing: run \`npm run build\` before the CLI tests`);
  }
}

/** The parent's environment without SWITCHYARD_* settings, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SWITCHYARD_')) env[k] = v;
  return { ...env, ...extra };
}

const live = new Set<ChildProcess>();

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Cli {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once the child exited (with its code or signal). */
  readonly exited: Promise<Exit>;
  /** True once the child has exited. */
  hasExited(): boolean;
  /** Kills the child by PID if it is still alive. */
  kill(signal?: NodeJS.Signals): void;
}

export interface StartOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
}

/** Starts `node bin/switchyard.js ...args`. */
export function start(args: readonly string[], options: StartOptions = {}): Cli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  let done = false;
  const exited = new Promise<Exit>((resolveExit, reject) => {
    child.once('error', reject);
    // 'close' (not 'exit') so stdout/stderr are complete when this resolves.
    child.once('close', (code, signal) => {
      done = true;
      live.delete(child);
      resolveExit({ code, signal });
    });
  });
  return {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    exited,
    hasExited: () => done,
    kill: (signal = 'SIGKILL') => killChild(child, signal),
  };
}

function killChild(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // already gone
  }
}

export interface Result extends Exit {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node bin/switchyard.js ...args` to its end; killed (and the test failed) after timeoutMs. */
export async function runCli(args: readonly string[], options: StartOptions & { timeoutMs?: number } = {}): Promise<Result> {
  const cli = start(args, options);
  const timeoutMs = options.timeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const exit = await Promise.race([
      cli.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`switchyard ${args.join(' ')} still running after ${timeoutMs} ms\nstdout: ${cli.stdout()}\nstderr: ${cli.stderr()}`)), timeoutMs);
      }),
    ]);
    return { ...exit, stdout: cli.stdout(), stderr: cli.stderr() };
  } finally {
    clearTimeout(timer);
    cli.kill();
  }
}

/** Kills every child still alive; for `after` hooks. */
export function killAll(): void {
  for (const child of live) killChild(child, 'SIGKILL');
  live.clear();
}

/** Polls `check` until it returns a truthy value; throws with `what` after timeoutMs. */
export async function waitFor<T>(what: string | (() => string), check: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A fresh temp folder and a function removing it. */
export async function tempDir(prefix = 'switchyard-cli-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The JSON log lines in `text` (other lines skipped). */
export function jsonLines(text: string): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial line
    }
  }
  return lines;
}

/** The system map of the README's "upper" worker: upper-in → upper-out, files in upper-src / upper-dst. */
export const UPPER_MAP = `
services:
  upper:
    in: upper-in
    out:
      - { case: true, queues: [upper-out] }
    buckets: { src: upper-src, dst: upper-dst }
`;

/**
 * The README's "upper" worker as a module's source (a plain .ts file, importing the built
 * package): reads its input file, writes it upper-cased. `options`: its worker options as
 * TypeScript text, e.g. `{ retry: { maxAttempts: 1 } }`.
 */
export function upperWorkerSource(options?: string): string {
  return `
import { worker } from ${JSON.stringify(DIST_INDEX)};

export default worker('upper', async (id, { readFile, writeFile }) => {
  const text: string = await (await readFile('src', id)).text();
  await (await writeFile('dst', id)).write(text.toUpperCase());
  return [[id, true]];
}${options ? `, ${options}` : ''});
`;
}
