// The real Lightbus 1.3 as a peer for interop tests: writes a bus module and a Lightbus
// config (YAML, pointing every transport at the test's Redis) into a temp folder, runs
// `lightbus run` from ../shared/upstream/lightbus with Debian's python3 as a child process
// group of its own, and talks to it through JSON lines (the module's control task, see
// test/interop/fixtures/lightbus_peer_bus.py): calls, fires, schema reads. Stopped by
// PID (the whole group), also when the test process exits early.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const PYTHON = '/usr/bin/python3';
const HERE = dirname(fileURLToPath(import.meta.url));
const BUS_MODULE = join(HERE, '..', 'interop', 'fixtures', 'lightbus_peer_bus.py');

/**
 * The unchanged Lightbus sources: $SWITCHYARD_UPSTREAM/lightbus, else the first
 * `shared/upstream/lightbus` found beside the repository or one of its parents (the
 * checkout lives at …/main or …/wt/<name> beside …/shared).
 */
export function lightbusSources(): string {
  const fromEnv = process.env.SWITCHYARD_UPSTREAM;
  const candidates = fromEnv ? [join(fromEnv, 'lightbus')] : [];
  for (let dir = resolve(HERE, '..', '..'); ; dir = dirname(dir)) {
    candidates.push(join(dir, 'shared', 'upstream', 'lightbus'), join(dir, '..', 'shared', 'upstream', 'lightbus'));
    if (dirname(dir) === dir) break;
  }
  const found = candidates.find((c) => existsSync(join(c, 'lightbus', '__init__.py')));
  if (!found) {
    throw new Error(`the Lightbus 1.3 sources were not found (looked in ${[...new Set(candidates)].slice(0, 4).join(', ')}, …): put the upstream folder at ../shared/upstream beside the checkout, or set SWITCHYARD_UPSTREAM to the folder that holds lightbus/`);
  }
  return found;
}

export interface LightbusPeerOptions {
  readonly redisUrl: string;
  /** Lightbus service_name (listener groups are `{service}-{listener}`). */
  readonly serviceName?: string;
  /** apis.default.rpc_timeout and the transports' rpc_timeout (the expiry key's life), seconds. */
  readonly rpcTimeoutS?: number;
  /** APIs for which this peer does not validate what it sends (to send what our schema refuses). */
  readonly laxApis?: readonly string[];
}

export interface PeerReply {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly type?: string;
  readonly message?: string;
  readonly trace?: string;
}

export interface PeerEvent {
  readonly api: string;
  readonly event: string;
  readonly kwargs: Record<string, unknown>;
  readonly types: Record<string, string>;
}

export interface LightbusPeer {
  readonly pid: number;
  readonly serviceName: string;
  /** Sends a command to the peer's control task and waits for its answer. */
  request(command: Record<string, unknown>, timeoutMs?: number): Promise<PeerReply>;
  /** Events the peer's listener received, in order. */
  readonly events: PeerEvent[];
  /** The peer's last log lines, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function configYaml(o: Required<Omit<LightbusPeerOptions, 'laxApis'>> & { laxApis: readonly string[] }): string {
  const url = JSON.stringify(o.redisUrl);
  const transports = [
    `    event_transport: {redis: {url: ${url}}}`,
    `    rpc_transport: {redis: {url: ${url}, rpc_timeout: ${o.rpcTimeoutS}}}`,
    `    result_transport: {redis: {url: ${url}, rpc_timeout: ${o.rpcTimeoutS}}}`,
  ];
  const api = (name: string, outgoing: boolean) => [`  ${name}:`, `    rpc_timeout: ${o.rpcTimeoutS}`, `    validate: {outgoing: ${outgoing}, incoming: true}`, ...transports];
  return [
    `service_name: ${o.serviceName}`,
    'process_name: p1',
    'bus:',
    '  log_level: warning',
    `  schema: {ttl: 60, transport: {redis: {url: ${url}}}}`,
    'apis:',
    ...api('default', true),
    ...o.laxApis.flatMap((name) => api(name, false)),
    '',
  ].join('\n');
}

const ENTRY = 'import sys; from lightbus.commands import lightbus_entry_point; sys.argv[0] = "lightbus"; sys.exit(lightbus_entry_point())';

/** Runs one `lightbus` command (e.g. `dumpconfigschema`) to its end; its stdout. */
export async function lightbusCommand(args: readonly string[], timeoutMs = 30_000): Promise<string> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: the Lightbus peer needs Debian's Python 3 (apt-get install -y python3)`);
  const child = spawn(PYTHON, ['-c', ENTRY, ...args], { cwd: tmpdir(), env: { ...process.env, PYTHONPATH: lightbusSources(), PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`lightbus ${args.join(' ')} exited with ${code}:\n${err}`);
  return out;
}

/** Starts `lightbus run` and resolves once its control task answers. */
export async function startLightbusPeer(options: LightbusPeerOptions): Promise<LightbusPeer> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: the Lightbus peer needs Debian's Python 3 (apt-get install -y python3)`);
  const sources = lightbusSources();
  const serviceName = options.serviceName ?? 'lbpeer';
  const dir = await mkdtemp(join(tmpdir(), 'sy-lightbus-'));
  await copyFile(BUS_MODULE, join(dir, 'lb_peer_bus.py'));
  await writeFile(join(dir, 'lightbus.yaml'), configYaml({ redisUrl: options.redisUrl, serviceName, rpcTimeoutS: options.rpcTimeoutS ?? 2, laxApis: options.laxApis ?? [] }));
  const child = spawn(PYTHON, ['-c', ENTRY, 'run', '--bus', 'lb_peer_bus', '--config', join(dir, 'lightbus.yaml')], {
    cwd: dir,
    env: { ...process.env, PYTHONPATH: `${sources}:${dir}`, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // a process group of its own, killed as a whole
  });
  live.add(child);
  let log = '';
  const keep = (text: string) => (log = (log + text).slice(-8000));
  child.stderr!.setEncoding('utf8').on('data', keep);
  const events: PeerEvent[] = [];
  const waiting = new Map<number, (reply: PeerReply) => void>();
  let nextId = 1;
  let ready: () => void = () => undefined;
  const readyNow = new Promise<void>((r) => (ready = r));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('@@ ')) return void keep(`${line}\n`);
    const doc = JSON.parse(line.slice(3)) as Record<string, unknown>;
    if (doc.ready) ready();
    else if (doc.kind === 'event') events.push(doc as unknown as PeerEvent);
    else if (typeof doc.reply === 'number') {
      const { reply, ...rest } = doc;
      waiting.get(reply as number)?.(rest as unknown as PeerReply);
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => (live.delete(child), r())));

  const stop = async () => {
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
    await rm(dir, { recursive: true, force: true });
  };

  const started = await Promise.race([
    readyNow.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    new Promise<'late'>((r) => setTimeout(() => r('late'), 30_000).unref()),
  ]);
  if (started !== 'ready') {
    await stop();
    throw new Error(`lightbus run ${started === 'exited' ? `exited (${child.exitCode ?? child.signalCode})` : 'did not start within 30 s'}:\n${log}`);
  }

  return {
    pid: child.pid!,
    serviceName,
    events,
    log: () => log,
    stop,
    request: (command, timeoutMs = 15_000) => {
      const id = nextId++;
      return new Promise<PeerReply>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`the Lightbus peer did not answer ${JSON.stringify(command)} within ${timeoutMs} ms:\n${log}`));
        }, timeoutMs);
        waiting.set(id, (reply) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(reply);
        });
        child.stdin!.write(`${JSON.stringify({ ...command, id })}\n`);
      });
    },
  };
}
