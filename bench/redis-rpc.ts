// RPC round trips/s and p50/p99 latency over Redis at concurrency 1 and 32: Switchyard's
// bus against Moleculer's Redis transporter, a raw ioredis LPUSH + BLPOP loop both ways,
// and a raw loop doing the Lightbus protocol's Redis work by hand (expiry key + RPUSH,
// BLPOP, LPUSH + EXPIRE of the return path: the floor for any Lightbus-compatible RPC),
// same echo payload, in the same run. Every kind has a server process and a client process
// of its own (bench/_redis-rpc-client.ts), all started before measuring; the measured
// calls are cut into slices that the kinds take in turn (order rotated every slice), so
// that every kind meets the same phases of these machines, whose speed drifts by up to 2x
// within seconds. Rates and percentiles pool each kind's slices.
//   npm run bench -- redis-rpc [rounds] [concurrency,…] [kind,…]   (kinds: raw raw-lightbus moleculer ours; 4 slices per round)

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startRedis } from '../test/support/redis-server.js';
import type { Run } from './_redis-rpc-client.js';
import { median, printResult } from './_result.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const SLICES = ROUNDS * 4;
const LEVELS = [
  { concurrency: 1, calls: 5_000 },
  { concurrency: 32, calls: 60_000 },
].filter((l) => !process.argv[3] || process.argv[3].split(',').map(Number).includes(l.concurrency));
type Kind = 'ours' | 'moleculer' | 'raw' | 'raw-lightbus';

const redis = await startRedis();
const children = new Set<ChildProcess>();

function child(script: string, args: string[], stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', new URL(script, import.meta.url).pathname, ...args], { stdio: [stdin, 'pipe', 'inherit'] });
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

/** A kind's server and client, started; `ask` sends the client a line and waits for its answer. */
interface Driven {
  ask(line: string): Promise<string>;
  stop(): Promise<void>;
}

async function start(kind: Kind, concurrency: number): Promise<Driven> {
  const server = child('./_redis-echo.ts', [kind, redis.url, String(concurrency)]);
  await lineOf(server, `${kind} server`, (l) => (l === 'ready' ? true : undefined));
  const client = child('./_redis-rpc-client.ts', [kind, redis.url, String(concurrency)], 'pipe');
  const waiting: ((line: string) => void)[] = [];
  const exited = new Promise<never>((_, reject) => client.once('exit', (code) => reject(new Error(`${kind} client exited (${code})`))));
  exited.catch(() => undefined);
  createInterface({ input: client.stdout! }).on('line', (line) => waiting.shift()?.(line));
  const next = () => Promise.race([new Promise<string>((r) => waiting.push(r)), exited]);
  const ready = await next();
  if (ready !== 'ready') throw new Error(`${kind} client said ${ready}`);
  return {
    ask: (line) => {
      const answer = next();
      client.stdin!.write(`${line}\n`);
      return answer;
    },
    stop: async () => {
      await stop(client);
      await stop(server);
    },
  };
}

try {
  for (const { concurrency, calls } of LEVELS) {
    const kinds = (['raw', 'raw-lightbus', 'moleculer', 'ours'] as Kind[]).filter((k) => !process.argv[4] || process.argv[4].split(',').includes(k));
    const driven = {} as Record<Kind, Driven>;
    for (const k of kinds) driven[k] = await start(k, concurrency);
    const runs = {} as Record<Kind, Run>;
    const sliceRates = Object.fromEntries(kinds.map((k) => [k, [] as number[]])) as Record<Kind, number[]>;
    try {
      for (const k of kinds) await driven[k].ask(`warm ${calls}`);
      const perSlice = Math.ceil(calls / SLICES);
      for (let slice = 0; slice < SLICES; slice++) {
        const order = kinds.map((_, i) => kinds[(i + slice) % kinds.length]!);
        for (const k of order) sliceRates[k].push(perSlice / Number((await driven[k].ask(`run ${perSlice}`)).split(' ')[1]));
      }
      for (const k of kinds) runs[k] = JSON.parse(await driven[k].ask('done')) as Run;
    } finally {
      for (const k of kinds) await driven[k].stop();
    }
    console.log(`c=${concurrency} (${SLICES} slices of ${Math.ceil(calls / SLICES)} calls each): ` + kinds.map((k) => `${k} ${runs[k].rate.toFixed(0)}/s p50 ${runs[k].p50.toFixed(3)} p99 ${runs[k].p99.toFixed(3)} ms`).join(' | '));
    if (!runs.ours) continue;
    const against: [Kind, string][] = [['raw', 'raw-ioredis'], ['raw-lightbus', 'raw-ioredis-lightbus-protocol'], ['moleculer', 'moleculer']];
    for (const [k, name] of against) {
      if (!runs[k]) continue;
      // How the ratio varied between slices: the machine's noise, for the reader to judge.
      const ratios = sliceRates.ours.map((r, i) => r / sliceRates[k][i]!).sort((a, b) => a - b);
      console.log(`c=${concurrency} ours/${k} per slice: min ${ratios[0]!.toFixed(2)} median ${median(ratios).toFixed(2)} max ${ratios.at(-1)!.toFixed(2)}`);
      printResult({ bench: 'redis-rpc', case: `calls-c${concurrency}`, against: name, unit: 'calls/s', ours: Math.round(runs.ours.rate), baseline: Math.round(runs[k].rate) });
    }
    if (!runs.moleculer) continue;
    printResult({ bench: 'redis-rpc', case: `p50-c${concurrency}`, against: 'moleculer', unit: 'ms', ours: Number(runs.ours.p50.toFixed(3)), baseline: Number(runs.moleculer.p50.toFixed(3)), lowerIsBetter: true });
    printResult({ bench: 'redis-rpc', case: `p99-c${concurrency}`, against: 'moleculer', unit: 'ms', ours: Number(runs.ours.p99.toFixed(3)), baseline: Number(runs.moleculer.p99.toFixed(3)), lowerIsBetter: true });
  }
} finally {
  for (const c of children) c.kill('SIGKILL');
  await redis.destroy();
}
