// Switchyard's API model against the real Lightbus 1.3 (../shared/upstream/lightbus), each
// side as its users run it, in the same run:
//   - RPC calls/s and p50/p99 at concurrency 1 and 32: a Lightbus client process
//     (lightbus.create(), call_async) → a `lightbus run` server process, against our client
//     process → our server process (bench/_lightbus-ours.ts, bench/_redis-echo.ts);
//   - events fire → handled (events/s): a Lightbus process firing with 64 fires in flight →
//     a `lightbus run` listener (batch_size 10), against our firer → our listener (prefetch 10);
//   - mixed pairs, the wire under load: a Lightbus client → our server, our client → a
//     Lightbus server (and the same for events), printed against Lightbus → Lightbus.
// Every pair has a redis-server of its own (no pair sees another's keys) and keeps its
// processes for the whole run. An RPC round gives each pair the same time (roundMs of
// calls); an events round fires as many events as the pair handled end to end in roundMs
// while warming up, and times them from the first fire to the last handled. The pairs take
// their turns in alternating order (bench/_result.ts alternate), and the
// medians of the rounds are printed. Between our client and our server RPC uses our native
// format; our client against a Lightbus server speaks Lightbus's (docs/guides/api.md, "On Redis").
//   npm run bench -- lightbus [rounds=5] [roundMs=1500] [cases=rpc,events,mixed]
// Needs redis-server and Debian's /usr/bin/python3 (3.9–3.11).

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisInstalled, startRedis, type RedisServer } from '../test/support/redis-server.js';
import { MAX_STREAM_LENGTH } from './_lightbus-ours.js';
import { jsonLine, killAllPeers, nodeScript, PYTHON, requirePython, startPeer, tempFolder, upstreamDir, type Peer } from './_peers.js';
import { alternate, median, printResult } from './_result.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const ROUND_MS = Number(process.argv[3] ?? 1500);
const CASES = (process.argv[4] ?? 'rpc,events,mixed').split(',');
const LEVELS = [1, 32];
const IN_FLIGHT = 64; // fires in flight, both sides (as bench/redis-events.ts)
const WARM_MS = 600;
const WARM_EVENTS = 300;

const UPSTREAM = upstreamDir('lightbus');
requirePython([], []);
if (!redisInstalled()) throw new Error('redis-server is needed; install it with: apt-get install -y redis-server');
const PY_DIR = fileURLToPath(new URL('./py', import.meta.url));
const LIGHTBUS_RUN = 'import sys; from lightbus.commands import lightbus_entry_point; sys.argv[0] = "lightbus"; sys.exit(lightbus_entry_point())';

type Kind = 'lightbus' | 'ours';
interface Pair {
  name: string;
  client: Kind;
  server: Kind;
}
const PAIRS = ([
  { name: 'lightbus', client: 'lightbus', server: 'lightbus' },
  { name: 'ours', client: 'ours', server: 'ours' },
  { name: 'lightbus-to-ours', client: 'lightbus', server: 'ours' },
  { name: 'ours-to-lightbus', client: 'ours', server: 'lightbus' },
] as Pair[]).filter((p) => CASES.includes('mixed') || p.client === p.server);

interface CallRun {
  calls: number;
  seconds: number;
  p50: number;
  p99: number;
}

const work = tempFolder('sy-bench-lightbus-');
const redises: RedisServer[] = [];

/** A Lightbus configuration naming one Redis for everything (schema, RPC, results, events). */
async function lightbusConfig(name: string, url: string): Promise<string> {
  const redis = { redis: { url: `${url}/0` } };
  const config = {
    service_name: 'bench',
    bus: { log_level: 'error', schema: { transport: redis } },
    apis: {
      default: {
        event_transport: { redis: { url: `${url}/0`, max_stream_length: MAX_STREAM_LENGTH } },
        rpc_transport: redis,
        result_transport: redis,
      },
    },
  };
  const file = join(work, `${name}.json`);
  await writeFile(file, JSON.stringify(config));
  return file;
}

const pythonEnv = { PYTHONPATH: `${UPSTREAM}:${PY_DIR}`, PYTHONUNBUFFERED: '1' };

function lightbusWorker(name: string, role: 'server' | 'listener', config: string): Peer {
  return startPeer(name, PYTHON, ['-c', LIGHTBUS_RUN, 'run', '--bus', 'lightbus_bench_bus', '--config', config], { cwd: PY_DIR, env: { ...pythonEnv, BENCH_ROLE: role } });
}

function lightbusPeer(name: string, role: 'client' | 'firer', config: string): Peer {
  return startPeer(name, PYTHON, ['lightbus_peer.py', role, config], { cwd: PY_DIR, env: pythonEnv });
}

function oursPeer(name: string, role: 'client' | 'firer' | 'listener' | 'server', url: string): Peer {
  const [cmd, args] = role === 'server' ? nodeScript('./_redis-echo.ts', ['ours', url, '1']) : nodeScript('./_lightbus-ours.ts', [role, url]);
  return startPeer(name, cmd, args);
}

const ready = (l: string) => (l === 'ready' ? true : undefined);

/** A pair's processes on a Redis of its own. */
interface Running {
  pair: Pair;
  client: Peer;
  server: Peer;
  firer?: Peer;
  listener?: Peer;
  /** Events fired into this pair so far (what its listener must have handled). */
  fired: number;
  /** Events fired per measured round (sized by warmEvents). */
  perRound: number;
}

async function startPair(pair: Pair): Promise<Running> {
  const redis = await startRedis();
  redises.push(redis);
  const config = await lightbusConfig(pair.name, redis.url);
  const server = pair.server === 'lightbus' ? lightbusWorker(`${pair.name} server`, 'server', config) : oursPeer(`${pair.name} server`, 'server', redis.url);
  const client = pair.client === 'lightbus' ? lightbusPeer(`${pair.name} client`, 'client', config) : oursPeer(`${pair.name} client`, 'client', redis.url);
  let firer: Peer | undefined;
  let listener: Peer | undefined;
  if (CASES.includes('events')) {
    listener = pair.server === 'lightbus' ? lightbusWorker(`${pair.name} listener`, 'listener', config) : oursPeer(`${pair.name} listener`, 'listener', redis.url);
    firer = pair.client === 'lightbus' ? lightbusPeer(`${pair.name} firer`, 'firer', config) : oursPeer(`${pair.name} firer`, 'firer', redis.url);
  }
  for (const p of [server, client, firer, listener]) if (p) await p.expect(ready, '"ready"');
  return { pair, client, server, firer, listener, fired: 0, perRound: 0 };
}

async function call(r: Running, command: 'warm' | 'run', ms: number, concurrency: number): Promise<CallRun> {
  return r.client.ask(`${command} ${ms} ${concurrency}`, jsonLine<CallRun>);
}

/** One events round: fire `count`, then wait until the listener handled all of them; events/s. */
async function fireRound(r: Running, count: number): Promise<number> {
  const started = performance.now();
  const { fired } = await r.firer!.ask(`fire ${count} ${IN_FLIGHT}`, jsonLine<{ fired: number }>);
  r.fired += fired;
  await r.listener!.ask(`expect ${r.fired}`, (l) => (l.startsWith('done ') ? true : undefined));
  return fired / ((performance.now() - started) / 1000);
}

/**
 * Warms a pair's events, settles what its listener counts and sizes its rounds. Events
 * fired before the listener's group existed are never delivered (a group starts at "$",
 * Lightbus and ours alike), so the count is read until it stops moving and taken as the
 * starting point. A round fires what the pair handled end to end in ROUND_MS during a
 * sized warm-up round: firing for a fixed time instead would let a fast firer queue far
 * more than a slow listener handles in that time.
 */
async function warmEvents(r: Running): Promise<void> {
  await r.firer!.ask(`fire ${WARM_EVENTS} ${IN_FLIGHT}`, jsonLine<{ fired: number }>);
  let last = -1;
  let still = 0;
  while (still < 3) {
    await new Promise((res) => setTimeout(res, 250));
    const now = await r.listener!.ask('count', (l) => (l.startsWith('count ') ? Number(l.split(' ')[1]) : undefined));
    still = now === last && now > 0 ? still + 1 : 0;
    last = now;
  }
  r.fired = last;
  const sized = (rate: number) => Math.max(100, Math.round((rate * ROUND_MS) / 1000));
  r.perRound = sized(await fireRound(r, sized(await fireRound(r, WARM_EVENTS))));
}

const rate = (x: CallRun) => x.calls / x.seconds;
const began = performance.now();
const at = () => `[${((performance.now() - began) / 1000).toFixed(0)} s]`;
const fmt = (n: number) => n.toFixed(n >= 100 ? 0 : 3);

try {
  console.log(`lightbus: ${ROUNDS} rounds of ${ROUND_MS} ms per pair; pairs ${PAIRS.map((p) => p.name).join(', ')}; cases ${CASES.join(',')}`);
  const running: Running[] = [];
  for (const pair of PAIRS) running.push(await startPair(pair));
  console.log(`${at()} every pair started`);

  if (CASES.includes('rpc')) {
    for (const c of LEVELS) {
      for (const r of running) await call(r, 'warm', WARM_MS, c);
      const sides = Object.fromEntries(running.map((r) => [r.pair.name, () => call(r, 'run', ROUND_MS, c)]));
      const runs = await alternate(ROUNDS, sides, (round, last) =>
        console.log(`${at()} rpc c${c} round ${round + 1}: ` + Object.entries(last).map(([n, x]) => `${n} ${fmt(rate(x))} calls/s p50 ${x.p50.toFixed(2)} p99 ${x.p99.toFixed(2)} ms`).join(' | ')),
      );
      const m = (name: string, f: (x: CallRun) => number) => median(runs[name]!.map(f));
      printResult({ bench: 'lightbus', case: `rpc-c${c}`, against: 'lightbus', unit: 'calls/s', ours: Math.round(m('ours', rate)), baseline: Math.round(m('lightbus', rate)) });
      printResult({ bench: 'lightbus', case: `rpc-c${c}-p50`, against: 'lightbus', unit: 'ms', ours: Number(m('ours', (x) => x.p50).toFixed(3)), baseline: Number(m('lightbus', (x) => x.p50).toFixed(3)), lowerIsBetter: true });
      printResult({ bench: 'lightbus', case: `rpc-c${c}-p99`, against: 'lightbus', unit: 'ms', ours: Number(m('ours', (x) => x.p99).toFixed(3)), baseline: Number(m('lightbus', (x) => x.p99).toFixed(3)), lowerIsBetter: true });
      for (const mixed of ['lightbus-to-ours', 'ours-to-lightbus']) {
        if (!runs[mixed]) continue;
        printResult({ bench: 'lightbus', case: `rpc-c${c}-${mixed === 'lightbus-to-ours' ? 'lightbus-client-our-server' : 'our-client-lightbus-server'}`, against: 'lightbus', unit: 'calls/s', ours: Math.round(m(mixed, rate)), baseline: Math.round(m('lightbus', rate)) });
      }
    }
  }

  if (CASES.includes('events')) {
    for (const r of running) await warmEvents(r);
    console.log(`${at()} events per round: ${running.map((r) => `${r.pair.name} ${r.perRound}`).join(', ')}`);
    const sides = Object.fromEntries(running.map((r) => [r.pair.name, () => fireRound(r, r.perRound)]));
    const runs = await alternate(ROUNDS, sides, (round, last) =>
      console.log(`${at()} events round ${round + 1}: ` + Object.entries(last).map(([n, x]) => `${n} ${fmt(x)} events/s`).join(' | ')),
    );
    const m = (name: string) => Math.round(median(runs[name]!));
    printResult({ bench: 'lightbus', case: 'events', against: 'lightbus', unit: 'events/s', ours: m('ours'), baseline: m('lightbus') });
    if (runs['lightbus-to-ours']) printResult({ bench: 'lightbus', case: 'events-lightbus-firer-our-listener', against: 'lightbus', unit: 'events/s', ours: m('lightbus-to-ours'), baseline: m('lightbus') });
    if (runs['ours-to-lightbus']) printResult({ bench: 'lightbus', case: 'events-our-firer-lightbus-listener', against: 'lightbus', unit: 'events/s', ours: m('ours-to-lightbus'), baseline: m('lightbus') });
  }
} finally {
  await killAllPeers();
  for (const r of redises) await r.destroy();
}
