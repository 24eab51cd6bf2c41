// RPC round trips/s and p50/p99 latency over Redis at concurrency 1 and 32: Switchyard's
// bus (Lightbus protocol) against Moleculer's Redis transporter, a raw ioredis LPUSH +
// BLPOP loop both ways, and a raw loop doing the Lightbus protocol's Redis work by hand
// (expiry key + RPUSH, BLPOP, LPUSH + EXPIRE of the return path: the floor for any
// Lightbus-compatible RPC), same echo payload, in the same run; every measurement has a
// server process and a client process of its own (bench/_redis-rpc-client.ts), so no
// kind runs where another ran before. Rounds alternate the order; medians are printed.
//   npm run bench -- redis-rpc [rounds] [concurrency,…] [kind,…]   (kinds: raw raw-lightbus moleculer ours)

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startRedis } from '../test/support/redis-server.js';
import type { Run } from './_redis-rpc-client.js';
import { alternate, median, printResult } from './_result.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const LEVELS = [
  { concurrency: 1, calls: 5_000 },
  { concurrency: 32, calls: 30_000 },
].filter((l) => !process.argv[3] || process.argv[3].split(',').map(Number).includes(l.concurrency));
type Kind = 'ours' | 'moleculer' | 'raw' | 'raw-lightbus';

const redis = await startRedis();
const children = new Set<ChildProcess>();

function child(script: string, args: string[]): ChildProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', new URL(script, import.meta.url).pathname, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

/** Resolves with the child's first stdout line that `pick` accepts; rejects if it exits first. */
function lineOf<T>(proc: ChildProcess, what: string, pick: (line: string) => T | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${what} exited (${code})`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const got = pick(line);
      if (got !== undefined) resolve(got);
    });
  });
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
}

/** A fresh server process and a fresh client process for each measurement. */
async function measure(kind: Kind, concurrency: number, calls: number): Promise<Run> {
  const server = child('./_redis-echo.ts', [kind, redis.url, String(concurrency)]);
  try {
    await lineOf(server, `${kind} server`, (l) => (l === 'ready' ? true : undefined));
    const client = child('./_redis-rpc-client.ts', [kind, redis.url, String(concurrency), String(calls)]);
    try {
      return await lineOf(client, `${kind} client`, (l) => (l.startsWith('{') ? (JSON.parse(l) as Run) : undefined));
    } finally {
      await stop(client);
    }
  } finally {
    await stop(server);
  }
}

try {
  for (const { concurrency, calls } of LEVELS) {
    const kinds = (['raw', 'raw-lightbus', 'moleculer', 'ours'] as Kind[]).filter((k) => !process.argv[4] || process.argv[4].split(',').includes(k));
    const runs = await alternate(ROUNDS, Object.fromEntries(kinds.map((k) => [k, () => measure(k, concurrency, calls)])) as Record<Kind, () => Promise<Run>>, (round, last) =>
      console.log(`c=${concurrency} round ${round + 1}: ` + kinds.map((k) => `${k} ${last[k].rate.toFixed(0)}/s p50 ${last[k].p50.toFixed(3)} p99 ${last[k].p99.toFixed(3)} ms`).join(' | ')),
    );
    const med = (k: Kind, f: keyof Run) => median(runs[k].map((r) => r[f]));
    if (!runs.ours) continue;
    const against: [Kind, string][] = [['raw', 'raw-ioredis'], ['raw-lightbus', 'raw-ioredis-lightbus-protocol'], ['moleculer', 'moleculer']];
    for (const [k, name] of against) {
      if (runs[k]) printResult({ bench: 'redis-rpc', case: `calls-c${concurrency}`, against: name, unit: 'calls/s', ours: Math.round(med('ours', 'rate')), baseline: Math.round(med(k, 'rate')) });
    }
    if (!runs.moleculer) continue;
    printResult({ bench: 'redis-rpc', case: `p50-c${concurrency}`, against: 'moleculer', unit: 'ms', ours: Number(med('ours', 'p50').toFixed(3)), baseline: Number(med('moleculer', 'p50').toFixed(3)), lowerIsBetter: true });
    printResult({ bench: 'redis-rpc', case: `p99-c${concurrency}`, against: 'moleculer', unit: 'ms', ours: Number(med('ours', 'p99').toFixed(3)), baseline: Number(med('moleculer', 'p99').toFixed(3)), lowerIsBetter: true });
  }
} finally {
  for (const c of children) c.kill('SIGKILL');
  await redis.destroy();
}
