// The real mistifyio Go code as a test peer: provider-simple (the provider's own example)
// and a Go acomm client of ours (test/interop/fixtures/acomm-client/main.go), both built
// from ../shared/upstream/mistify-gopath with Debian's golang-go, once per test file, into
// a temp folder. Processes are started in their own process group and killed by PID (the
// group) in stopAll(), even when a test failed.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
/**
 * The original code, unchanged: ../shared/upstream/mistify-gopath beside the repository (the
 * main checkout), or one level further up (a worktree under wt/); SWITCHYARD_UPSTREAM names
 * the upstream folder elsewhere, as for the benchmarks.
 */
const GOPATH_CANDIDATES = [process.env.SWITCHYARD_UPSTREAM, resolve(REPO, '..', 'shared', 'upstream'), resolve(REPO, '..', '..', 'shared', 'upstream')]
  .filter((r): r is string => !!r)
  .map((root) => join(root, 'mistify-gopath'));
export const UPSTREAM_GOPATH = GOPATH_CANDIDATES.find((p) => existsSync(join(p, 'src', 'github.com', 'mistifyio', 'provider'))) ?? GOPATH_CANDIDATES[0]!;
const CLIENT_SOURCE = join(REPO, 'test', 'interop', 'fixtures', 'acomm-client', 'main.go');

export interface MistifyBinaries {
  /** github.com/mistifyio/provider/examples/simple/cmd/provider-simple */
  readonly providerSimple: string;
  /** Our Go acomm client (fixtures/acomm-client). */
  readonly client: string;
  /** The temp folder holding the GOPATH copy and the binaries. */
  readonly dir: string;
  remove(): Promise<void>;
}

function run(cmd: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs: number }): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { env: options.env, cwd: options.cwd, timeout: options.timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolvePromise({ stdout, stderr });
    });
  });
}

/**
 * Copies the GOPATH (go writes pkg/ into it) with our client beside it and builds both
 * binaries in one `go build`. Throws with the install command when go is missing.
 */
export async function buildMistify(): Promise<MistifyBinaries> {
  const go = ['/usr/bin/go', '/usr/lib/go/bin/go'].find((p) => existsSync(p)) ?? 'go';
  try {
    await run(go, ['version'], { env: process.env, cwd: tmpdir(), timeoutMs: 10_000 });
  } catch {
    throw new Error('go is not installed: apt-get install -y golang-go (the mistify interop tests build the original Go provider with it)');
  }
  if (!existsSync(join(UPSTREAM_GOPATH, 'src', 'github.com', 'mistifyio', 'provider'))) {
    throw new Error(`the original mistify code is not in ${GOPATH_CANDIDATES.join(' or ')}; set SWITCHYARD_UPSTREAM to the folder that holds mistify-gopath (shared/upstream)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'sy-go-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const gopath = join(dir, 'gopath');
    await cp(UPSTREAM_GOPATH, gopath, { recursive: true });
    const clientDir = join(gopath, 'src', 'switchyard-interop', 'acomm-client');
    await mkdir(clientDir, { recursive: true });
    await cp(CLIENT_SOURCE, join(clientDir, 'main.go'));
    const bin = join(dir, 'bin');
    await mkdir(bin);
    // GOCACHE: go's own default (~/.cache/go-build) when HOME is set, so later runs build in ~2 s; a temp one otherwise.
    const env: NodeJS.ProcessEnv = { ...process.env, GO111MODULE: 'off', GOPATH: gopath, GOFLAGS: '' };
    if (!env.HOME && !env.GOCACHE) env.GOCACHE = join(dir, 'gocache');
    await run(go, ['build', '-o', bin + '/', 'github.com/mistifyio/provider/examples/simple/cmd/provider-simple', 'switchyard-interop/acomm-client'], { env, cwd: gopath, timeoutMs: 180_000 });
    return { providerSimple: join(bin, 'provider-simple'), client: join(bin, 'acomm-client'), dir, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

const live = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      process.kill(child.pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Kills every peer process still running (SIGKILL to its process group); for `after` hooks. */
export function stopAllPeers(): void {
  for (const child of live) killGroup(child, 'SIGKILL');
  live.clear();
}
process.once('exit', stopAllPeers);

export interface PeerProcess {
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stdout and stderr as they came. */
  output(): string;
  stdout(): string;
  kill(signal?: NodeJS.Signals): void;
}

function startPeer(bin: string, args: readonly string[], cwd: string): PeerProcess {
  const child = spawn(bin, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    output += d;
    stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) => {
    child.once('close', (code, signal) => {
      live.delete(child);
      resolvePromise({ code, signal });
    });
    child.once('error', () => resolvePromise({ code: -1, signal: null }));
  });
  return { pid: child.pid!, exited, output: () => output, stdout: () => stdout, kill: (signal = 'SIGKILL') => killGroup(child, signal) };
}

/** Starts provider-simple with Go's own flags (pflag: --service_name, --socket_dir, …). */
export function startProviderSimple(bin: string, args: readonly string[], cwd = tmpdir()): PeerProcess {
  return startPeer(bin, args, cwd);
}

/** One line the Go client prints per request. */
export interface GoClientLine {
  readonly id: string;
  /** The ack's error (acomm.Send's return): the request was refused. */
  readonly ack_error: string;
  /** The response's error. */
  readonly error: string;
  readonly result: unknown;
  readonly stream_url: string;
  readonly stream: string;
  readonly stream_error: string;
  /** With -bigint: the result's int64 fields as Go decoded them, printed with %d. */
  readonly big?: string;
  readonly back?: string;
  readonly decode_error?: string;
}

/** Runs the Go client to its end (killed after timeoutMs) and parses its lines. */
export async function runGoClient(bin: string, args: readonly string[], timeoutMs = 20_000): Promise<GoClientLine[]> {
  const p = startPeer(bin, args, tmpdir());
  const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
  const { code, signal } = await p.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`acomm-client ${args.join(' ')} ended with ${signal ?? `code ${code}`}: ${p.output()}`);
  return p.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as GoClientLine);
}
