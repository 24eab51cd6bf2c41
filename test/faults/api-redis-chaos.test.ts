// Chaos for the API model on Redis (issue 17): three serving processes (fixtures/
// api-chaos-server.mjs, on the built package: RPC chaos.work.double and listener "chaos"
// of chaos.work.happened)
// under a steady load of calls and events from this process, while serving processes are
// killed at random points (mostly SIGKILL, every fourth SIGTERM) and replaced, and Redis
// (append-only, fsync always) is killed and restarted mid-stream, with one SIGTERM landing
// while it is down. Counted and asserted, from the servers' own records (synchronous
// appends, which survive SIGKILL):
//   - events lost: 0. Every event whose fire() resolved is handled at least once
//     (listeners are at least once: an event a killed process held is reclaimed);
//   - calls run twice: 0. RPC is at most once: no call runs more than once, whatever dies;
//   - calls or fires left hanging without an error: 0. Each one settles, with its result or
//     an error (a timeout, the broker), within its timeout and a margin;
//   - a SIGTERMed server that did not exit within 15 s: 0 (stop() ends, Redis up or down);
//   - a result that is not the right one: 0.
//   - after the chaos, calls are answered again (the service recovered by itself).
// Calls that meet no live server time out (an error, counted): that is RPC without a
// server, not a fault. Counts are printed. Bounded: 2,000 calls and 2,000 events over 15 s,
// 20 kills, 1 Redis restart.

import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { createBus, defineApi } from '../../src/models/api/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { RedisBusTransport } from '../../src/transports/redis/bus/mod.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { requireBuild } from '../cli/cli-helpers.js';

const CALLS = 2_000;
const EVENTS = 2_000;
const KILLS = 20;
const RUN_MS = 15_000;
const RPC_TIMEOUT_MS = 3_000;
const FIRE_TIMEOUT_MS = 5_000;
/** A call or fire not settled this long after its own timeout is counted as hanging. */
const HANG_MARGIN_MS = 10_000;
const FIXTURE = fileURLToPath(new URL('./fixtures/api-chaos-server.mjs', import.meta.url));
const SERVERS = 3;

const log = (line: string) => console.log(`api-chaos: ${line}`);

const work = defineApi({
  name: 'chaos.work',
  rpcs: { double: { params: z.object({ n: z.number().int() }), result: z.number().int() } },
  events: { happened: { params: z.object({ n: z.number().int() }) } },
});

let redis: RedisServer;
let dir: string;
const children = new Set<ChildProcess>();

before(async () => {
  requireBuild();
  redis = await startRedis({ appendOnly: true });
  dir = await mkdtemp(join(tmpdir(), 'sy-api-chaos-'));
});

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await redis?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Server {
  readonly child: ChildProcess;
  readonly record: string;
  readonly exited: Promise<void>;
  /** The end of what it wrote on stderr. */
  readonly stderr: () => string;
}

let serial = 0;
/** Processes that exited before they were ready (Redis was down: start() fails), restarted as a supervisor would. */
let failedStarts = 0;

async function spawnServer(): Promise<Server> {
  for (let attempt = 1; ; attempt++) {
    const name = `server-${++serial}`;
    const record = join(dir, `${name}.log`);
    const child = spawn(process.execPath, [FIXTURE, redis.url, name, record], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const ready = await new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} was not ready within 60 s:\n${stderr}`)), 60_000);
      void exited.then(() => (clearTimeout(timer), resolve(false)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line === 'ready') {
          clearTimeout(timer);
          resolve(true);
        }
      });
    });
    if (ready) return { child, record, exited, stderr: () => stderr };
    failedStarts++;
    if (attempt >= 5) throw new Error(`${name} exited before it was ready, ${attempt} times in a row:\n${stderr}`);
    await sleep(500);
  }
}

/** Settles with the outcome, or with "hung" when `work` has not settled after `ms`. */
function watched<T>(work: Promise<T>, ms: number): Promise<{ ok: true; value: T } | { ok: false; code: string } | 'hung'> {
  return Promise.race([
    work.then(
      (value) => ({ ok: true as const, value }),
      (error: { code?: string; message?: string }) => ({ ok: false as const, code: error?.code ?? error?.message ?? 'error' }),
    ),
    sleep(ms).then(() => 'hung' as const),
  ]);
}

function countRecords(): { ran: Map<number, number>; handled: Map<number, number> } {
  const ran = new Map<number, number>();
  const handled = new Map<number, number>();
  for (let i = 1; i <= serial; i++) {
    const file = join(dir, `server-${i}.log`);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^(ran|handled) (\d+)$/.exec(line);
      if (!m) continue;
      const into = m[1] === 'ran' ? ran : handled;
      into.set(Number(m[2]), (into.get(Number(m[2])) ?? 0) + 1);
    }
  }
  return { ran, handled };
}

it(`API on Redis under chaos: ${KILLS} kills of serving processes and a Redis restart during ${CALLS} calls and ${EVENTS} events`, { timeout: 240_000 }, async () => {
  const live = new Set<Server>(await Promise.all(Array.from({ length: SERVERS }, () => spawnServer())));
  let joined: () => void = () => undefined;
  const aServerJoined = () => new Promise<void>((r) => (joined = r));
  const logger = createLogger({ level: 'silent' });
  const driver = createBus({ apis: { work }, transport: new RedisBusTransport({ url: redis.url, logger }), logger, settings: { rpcTimeoutMs: RPC_TIMEOUT_MS, eventFireTimeoutMs: FIRE_TIMEOUT_MS } });
  await driver.start();
  try {
    const calls: Promise<Awaited<ReturnType<typeof watched<number>>>>[] = [];
    const fires: Promise<Awaited<ReturnType<typeof watched<void>>>>[] = [];
    const kills = { SIGKILL: 0, SIGTERM: 0, stuckStops: 0, duringOutage: 0 };
    const spawning: Promise<void>[] = [];
    const spawnErrors: string[] = [];
    const stops: Promise<void>[] = [];

    /** Kills a random live server (waiting for one to have started, if none is) and starts its replacement. */
    const kill = async (signal: 'SIGKILL' | 'SIGTERM', note = '') => {
      while (live.size === 0) await Promise.race([aServerJoined(), sleep(1_000)]);
      const victims = [...live];
      const victim = victims[Math.floor(Math.random() * victims.length)]!;
      live.delete(victim);
      kills[signal]++;
      victim.child.kill(signal);
      if (signal === 'SIGTERM') {
        stops.push(
          watched(victim.exited, 15_000).then((outcome) => {
            if (outcome === 'hung') {
              kills.stuckStops++;
              log(`a SIGTERMed server did not exit within 15 s${note}; its stderr: ${victim.stderr().trim() || '(nothing)'}`);
              victim.child.kill('SIGKILL');
            }
          }),
        );
      }
      spawning.push(
        spawnServer().then(
          (s) => {
            live.add(s);
            joined();
          },
          (error: Error) => void spawnErrors.push(error.message),
        ),
      );
    };

    // KILLS phases of load; in each, one kill at a random point, once at least two servers
    // serve (so that the service is hurt, not gone). Every fourth kill is a SIGTERM; the
    // middle phase kills Redis instead, and its kill is a SIGTERM while Redis is down.
    const start = Date.now();
    const perPhase = Math.ceil(Math.max(CALLS, EVENTS) / KILLS);
    const phaseMs = RUN_MS / KILLS;
    let n = 0;
    for (let phase = 1; phase <= KILLS; phase++) {
      const phaseStart = Date.now();
      const killing = (async () => {
        await sleep(Math.random() * phaseMs);
        for (let waited = 0; live.size < 2 && waited < 10_000; waited += 100) await sleep(100);
        if (phase === Math.ceil(KILLS / 2)) {
          await redis.stop({ kill: true });
          kills.duringOutage++;
          const stopping = kill('SIGTERM', ' (Redis down)');
          await sleep(500);
          await redis.start();
          await stopping;
          log(`Redis killed and restarted at ${Date.now() - start} ms`);
        } else await kill(phase % 4 === 0 ? 'SIGTERM' : 'SIGKILL');
      })();
      for (let i = 0; i < perPhase; i++, n++) {
        await sleep(Math.max(0, phaseStart + (i * phaseMs) / perPhase - Date.now()));
        if (n < CALLS) calls.push(watched(driver.work.double({ n }), RPC_TIMEOUT_MS + HANG_MARGIN_MS));
        if (n < EVENTS) fires.push(watched(driver.work.happened.fire({ n }), FIRE_TIMEOUT_MS + HANG_MARGIN_MS));
      }
      await killing;
    }
    const loadMs = Date.now() - start;
    const callOutcomes = await Promise.all(calls);
    const fireOutcomes = await Promise.all(fires);
    await Promise.all([...spawning, ...stops]);

    // Every event stored must be handled: wait for the stragglers (reclaimed after 1 s idle).
    const fired = fireOutcomes.flatMap((o, n) => (o !== 'hung' && o.ok ? [n] : []));
    let records = countRecords();
    for (let waited = 0; waited < 30_000 && fired.some((n) => !records.handled.has(n)); waited += 250) {
      await sleep(250);
      records = countRecords();
    }

    const tally = (outcomes: (Awaited<ReturnType<typeof watched<unknown>>>)[]) => {
      const errors: Record<string, number> = {};
      for (const o of outcomes) if (o !== 'hung' && !o.ok) errors[o.code] = (errors[o.code] ?? 0) + 1;
      return { ok: outcomes.filter((o) => o !== 'hung' && o.ok).length, hung: outcomes.filter((o) => o === 'hung').length, errors };
    };
    const callTally = tally(callOutcomes);
    const fireTally = tally(fireOutcomes);
    const wrong = callOutcomes.filter((o, n) => o !== 'hung' && o.ok && o.value !== n * 2).length;
    const ranTwice = [...records.ran.values()].filter((c) => c > 1).length;
    const answeredUnrun = callOutcomes.filter((o, n) => o !== 'hung' && o.ok && !records.ran.has(n)).length;
    const lost = fired.filter((n) => !records.handled.has(n)).length;
    const redelivered = [...records.handled.values()].reduce((sum, c) => sum + c - 1, 0);
    log(`kills: ${kills.SIGKILL} SIGKILL, ${kills.SIGTERM} SIGTERM (${kills.duringOutage} while Redis was down), stuck stops ${kills.stuckStops}; servers started ${serial} (${failedStarts} of them exited at start: Redis was down)`);
    log(`calls: ${callTally.ok} answered, errors ${JSON.stringify(callTally.errors)}, hung ${callTally.hung}, wrong ${wrong}, run twice ${ranTwice}, runs ${[...records.ran.values()].reduce((a, b) => a + b, 0)}, answered without a run ${answeredUnrun}`);
    log(`events: ${fireTally.ok} fired, fire errors ${JSON.stringify(fireTally.errors)}, fires hung ${fireTally.hung}, handled ${records.handled.size} distinct, redelivered ${redelivered}, lost ${lost}`);
    log(`load and kills took ${loadMs} ms, all ${Date.now() - start} ms`);
    log(`calls answered per phase: ${Array.from({ length: KILLS }, (_, b) => callOutcomes.slice(b * perPhase, (b + 1) * perPhase).filter((o) => o !== 'hung' && o.ok).length).join(' ')}`);

    assert.deepEqual(spawnErrors, [], 'replacement servers that never started');
    assert.equal(callTally.hung, 0, 'calls left hanging without an error');
    assert.equal(fireTally.hung, 0, 'fires left hanging without an error');
    assert.equal(ranTwice, 0, 'calls run twice (RPC is at most once)');
    assert.equal(wrong, 0, 'wrong results');
    assert.equal(answeredUnrun, 0, 'results for calls that did not run');
    assert.equal(lost, 0, 'events lost (listeners are at least once)');
    assert.equal(kills.stuckStops, 0, 'SIGTERMed servers that did not exit');
    assert.ok(callTally.ok > 0 && fireTally.ok > 0, 'the load went through between the faults');
    // Recovered: with the replacements up, every call is answered.
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => driver.work.double({ n: CALLS + i })));
    assert.deepEqual(after, Array.from({ length: 20 }, (_, i) => (CALLS + i) * 2));
  } finally {
    await driver.stop();
    for (const s of live) s.child.kill('SIGTERM');
    await Promise.all([...live].map((s) => watched(s.exited, 15_000)));
  }
});
