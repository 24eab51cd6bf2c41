// Requests/s and p50/p99 latency of a task request through a provider (coordinator client:
// discovery by listing the task folder → request + ack on the task socket → handler →
// response + ack on the client's response hook) against a raw unix-socket echo with the
// same acomm framing (connect, one framed message, one framed reply, close), at
// concurrency 1 and 32. A second baseline is the acomm protocol's own floor written by
// hand (request + ack, then response + ack on the caller's hook: two connections). Everything runs in this one process, the baseline in the same run;
// the order flips every round and the medians of the rounds are printed.
//   npm run bench -- provider [rounds]

import { createServer, connect, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coordinatorClient, provider } from '../dist/models/provider/mod.js';
import { createLogger } from '../dist/observability/logger.js';
import { encodeFrame } from '../dist/transports/unix/mod.js';
import { alternate, median, printResult } from './_result.js';

const ROUNDS = Number(process.argv[2] ?? 4);
const LEVELS = [
  { concurrency: 1, requests: 2_000 },
  { concurrency: 32, requests: 8_000 },
];
const ARGS = { guest_id: 'abc', n: 42 };

interface Run {
  rps: number;
  p50: number;
  p99: number;
}

/** Runs `requests` calls of `call` with `concurrency` loops; per-call latency in ms. */
async function drive(concurrency: number, requests: number, call: (i: number) => Promise<unknown>): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const i = next++;
        const t = performance.now();
        await call(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { rps: requests / elapsed, p50: at(0.5), p99: at(0.99) };
}

/** The baseline's client: one framed message out, one framed reply back, on a fresh connection. */
function rawRequest(path: string, json: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(path);
    const chunks: Buffer[] = [];
    let have = 0;
    socket.on('connect', () => socket.write(encodeFrame(json)));
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      have += c.length;
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (have >= 4 && have >= 4 + all.readUInt32BE(0)) {
        socket.destroy();
        resolve(JSON.parse(all.subarray(4).toString('utf8')));
      }
    });
    socket.on('error', reject);
  });
}

/** Calls `got` with the first length-prefixed frame (prefix included) read from the socket. */
function onFrame(socket: Socket, got: (frame: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let have = 0;
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    have += c.length;
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (have >= 4 && have >= 4 + all.readUInt32BE(0)) got(all.subarray(0, 4 + all.readUInt32BE(0)));
  });
}

/** The baseline's server: reads one frame, writes it back, closes. */
function echoServer(path: string): Promise<() => Promise<void>> {
  const server = createServer((socket) => {
    onFrame(socket, (frame) => socket.end(frame));
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(path, () => resolve(() => new Promise((r) => server.close(() => r())))));
}

/** Resolves with the first frame's body from a socket (baseline code: no limits, no timeouts). */
function oneFrame(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    onFrame(socket, (frame) => resolve(frame.subarray(4)));
    socket.on('error', reject);
  });
}

/**
 * The second baseline: the acomm protocol's own floor, hand-written. Request + ack on the
 * task socket, then the "provider" dials the caller's hook with the response + ack: two
 * connections per request, as through a provider, with nothing else.
 */
async function rawAcomm(taskPath: string, hookPath: string): Promise<{ call(id: string): Promise<unknown>; close(): Promise<void> }> {
  const ACK = encodeFrame('{"id":"","result":null,"stream_url":null,"error":""}');
  const waiting = new Map<string, (v: unknown) => void>();
  const hookServer = createServer(async (socket) => {
    const body = await oneFrame(socket);
    socket.end(ACK);
    const res = JSON.parse(body.toString('utf8')) as { id: string; result: unknown };
    waiting.get(res.id)?.(res.result);
    waiting.delete(res.id);
  });
  const taskServer = createServer(async (socket) => {
    const body = await oneFrame(socket);
    const req = JSON.parse(body.toString('utf8')) as { id: string; args: unknown };
    socket.end(encodeFrame(JSON.stringify({ id: req.id, result: null, stream_url: null, error: '' })));
    setImmediate(() => {
      const back = connect(hookPath);
      back.on('connect', () => back.write(encodeFrame(JSON.stringify({ id: req.id, result: req.args, stream_url: null, error: '' }))));
      void oneFrame(back).then(() => back.destroy());
    });
  });
  await new Promise<void>((r) => hookServer.listen(hookPath, r));
  await new Promise<void>((r) => taskServer.listen(taskPath, r));
  const json = (id: string) => JSON.stringify({ id, task: 'Echo', responsehook: `unix://${hookPath}`, args: ARGS });
  return {
    call: (id) => {
      const answer = new Promise<unknown>((r) => waiting.set(id, r));
      const socket = connect(taskPath);
      socket.on('connect', () => socket.write(encodeFrame(json(id))));
      void oneFrame(socket).then(() => socket.destroy());
      return answer;
    },
    close: async () => {
      await new Promise((r) => taskServer.close(r));
      await new Promise((r) => hookServer.close(r));
    },
  };
}

const dir = await mkdtemp(join(tmpdir(), 'sy7-bench-'));
const logger = createLogger({ level: 'silent' });
const server = provider({ service_name: 'bench', socket_dir: dir, log_level: 'silent' }, { logger });
server.registerTask('Echo', (req) => req.args);
await server.start();
const client = await coordinatorClient({ socketDir: dir, timeoutMs: 30_000, logger });
const echoPath = join(dir, 'echo.sock');
const closeEcho = await echoServer(echoPath);
const rawJson = JSON.stringify({ id: 'x', task: 'Echo', responsehook: null, args: ARGS });

const acomm = await rawAcomm(join(dir, 'raw-task.sock'), join(dir, 'raw-hook.sock'));

const ours = (c: number, n: number) => drive(c, n, () => client.request('Echo', ARGS));
const raw = (c: number, n: number) => drive(c, n, () => rawRequest(echoPath, rawJson));
const raw2 = (c: number, n: number) => drive(c, n, (i) => acomm.call(`r${i}`));

try {
  // Warm-up: JIT and socket paths, not measured.
  await ours(4, 500);
  await raw(4, 500);
  await raw2(4, 500);
  for (const { concurrency, requests } of LEVELS) {
    const { o, b, b2 } = await alternate(ROUNDS, { o: () => ours(concurrency, requests), b: () => raw(concurrency, requests), b2: () => raw2(concurrency, requests) });
    const m = (runs: Run[], k: keyof Run) => median(runs.map((r) => r[k]));
    console.error(`concurrency ${concurrency}: provider ${m(o, 'rps').toFixed(0)} req/s (p50 ${m(o, 'p50').toFixed(3)} ms, p99 ${m(o, 'p99').toFixed(3)} ms); raw echo ${m(b, 'rps').toFixed(0)} req/s (p50 ${m(b, 'p50').toFixed(3)} ms, p99 ${m(b, 'p99').toFixed(3)} ms)`);
    printResult({ bench: 'provider', case: `c${concurrency}-throughput`, against: 'raw-unix-echo', unit: 'req/s', ours: Math.round(m(o, 'rps')), baseline: Math.round(m(b, 'rps')) });
    printResult({ bench: 'provider', case: `c${concurrency}-p50`, against: 'raw-unix-echo', unit: 'ms', ours: m(o, 'p50'), baseline: m(b, 'p50'), lowerIsBetter: true });
    printResult({ bench: 'provider', case: `c${concurrency}-p99`, against: 'raw-unix-echo', unit: 'ms', ours: m(o, 'p99'), baseline: m(b, 'p99'), lowerIsBetter: true });
    console.error(`concurrency ${concurrency}: hand-written acomm request+ack, response+ack ${m(b2, 'rps').toFixed(0)} req/s (p50 ${m(b2, 'p50').toFixed(3)} ms, p99 ${m(b2, 'p99').toFixed(3)} ms)`);
    printResult({ bench: 'provider', case: `c${concurrency}-throughput`, against: 'raw-acomm-two-exchanges', unit: 'req/s', ours: Math.round(m(o, 'rps')), baseline: Math.round(m(b2, 'rps')) });
    printResult({ bench: 'provider', case: `c${concurrency}-p50`, against: 'raw-acomm-two-exchanges', unit: 'ms', ours: m(o, 'p50'), baseline: m(b2, 'p50'), lowerIsBetter: true });
  }
} finally {
  await client.stop();
  await server.stop();
  await closeEcho();
  await acomm.close();
  await rm(dir, { recursive: true, force: true });
}
