// Switchyard's service model against the real Python service_framework 0.0.3
// (../shared/upstream/service_framework-7ee29d5, run unchanged with `python3 -m
// service_framework` on Debian's python3 with python3-zmq and python3-msgpack), over
// ZeroMQ on loopback, in the same run:
//   - req/rep round trips/s (and p50/p99): a requester service in main mode → a replyer
//     service, Python → Python (bench/py/sf_*.py) against ours → ours (bench/_sf-ours.ts),
//     both validating {n: int} both ways;
//   - pub/sub messages/s: a publisher service in main mode → a subscriber service, at most
//     500 messages in flight (the subscriber reports every 100 it counted; the benchmark
//     relays that to the publisher), so that no side loses messages to the high-water mark.
// Every service is a process of its own. The original's service loop busy-polls a core
// even when idle (a main-mode service's too, on an empty poller), so during each side's
// rounds the other side's processes are frozen (SIGSTOP; SIGCONT before their turn): each
// side has the machine to itself. Rounds alternate (bench/_result.ts), medians printed.
//   npm run bench -- service-framework [rounds=5] [roundMs=1500]

import { createServer } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonLine, killAllPeers, nodeScript, PYTHON, requirePython, startPeer, tempFolder, upstreamDir, type Peer } from './_peers.js';
import { alternate, median, printResult } from './_result.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const ROUND_MS = Number(process.argv[3] ?? 1500);
const WARM_MS = 500;
const UPSTREAM = join(upstreamDir('service_framework-7ee29d5'), 'src');
requirePython(['zmq', 'msgpack'], ['python3-zmq', 'python3-msgpack']);
const PY_DIR = fileURLToPath(new URL('./py', import.meta.url));

type Kind = 'python' | 'ours';
const KINDS: Kind[] = ['python', 'ours'];
type Role = 'replyer' | 'requester' | 'publisher' | 'subscriber';

interface CallRun {
  calls: number;
  seconds: number;
  p50: number;
  p99: number;
}

const work = tempFolder('sy-bench-sf-');

/** A loopback port nobody listens on right now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The addresses.json a service of this role needs, for one connection on `address`. */
async function addressesFile(kind: Kind, role: Role, address: string): Promise<string> {
  const name = role === 'replyer' || role === 'requester' ? 'echo' : 'feed';
  const side = role === 'replyer' || role === 'subscriber' ? 'in' : 'out';
  const file = join(work, `${kind}-${role}.json`);
  await writeFile(file, JSON.stringify({ connections: { [side]: { [name]: { [role]: address } } } }));
  return file;
}

async function startService(kind: Kind, role: Role, address: string): Promise<Peer> {
  if (kind === 'ours') {
    const [cmd, args] = nodeScript('./_sf-ours.ts', [role, address]);
    return startPeer(`ours ${role}`, cmd, args);
  }
  const mainMode = role === 'requester' || role === 'publisher';
  const args = ['-m', 'service_framework', '-s', `./sf_${role}.py`, '-a', await addressesFile(kind, role, address), '-cl', 'WARNING', ...(mainMode ? ['-m'] : [])];
  return startPeer(`python ${role}`, PYTHON, args, { cwd: PY_DIR, env: { PYTHONPATH: `${UPSTREAM}:${PY_DIR}`, PYTHONUNBUFFERED: '1' } });
}

const ready = (l: string) => (l === 'ready' ? true : undefined);
const began = performance.now();
const at = () => `[${((performance.now() - began) / 1000).toFixed(0)} s]`;

/** A side's two services; only the side whose turn it is runs, the other is frozen. */
interface Side {
  kind: Kind;
  peers: Peer[];
}

function turn(sides: Side[], kind: Kind): void {
  for (const s of sides) for (const p of s.peers) (s.kind === kind ? p.thaw() : p.freeze());
}

async function reqRep(): Promise<void> {
  const sides: (Side & { requester: Peer })[] = [];
  for (const kind of KINDS) {
    const address = `127.0.0.1:${await freePort()}`;
    const server = await startService(kind, 'replyer', address);
    const requester = await startService(kind, 'requester', address);
    sides.push({ kind, peers: [server, requester], requester });
    // The Python replyer says nothing when it is up; its requester's first call waits for it.
    if (kind === 'ours') await server.expect(ready, '"ready"');
    await requester.expect(ready, '"ready"');
  }
  const run = async (kind: Kind, command: string) => {
    const side = sides.find((s) => s.kind === kind)!;
    turn(sides, kind);
    return side.requester.ask(`${command} ${command === 'warm' ? WARM_MS : ROUND_MS}`, jsonLine<CallRun>);
  };
  for (const kind of KINDS) await run(kind, 'warm');
  const runs = await alternate(ROUNDS, { python: () => run('python', 'run'), ours: () => run('ours', 'run') }, (round, last) =>
    console.log(`${at()} req-rep round ${round + 1}: ` + KINDS.map((k) => `${k} ${(last[k].calls / last[k].seconds).toFixed(0)} round trips/s p50 ${last[k].p50.toFixed(3)} p99 ${last[k].p99.toFixed(3)} ms`).join(' | ')),
  );
  for (const s of sides) for (const p of s.peers) p.thaw();
  for (const s of sides) for (const p of s.peers) await p.kill();
  const m = (k: Kind, f: (x: CallRun) => number) => median(runs[k].map(f));
  const rate = (x: CallRun) => x.calls / x.seconds;
  printResult({ bench: 'service-framework', case: 'req-rep', against: 'service-framework', unit: 'round-trips/s', ours: Math.round(m('ours', rate)), baseline: Math.round(m('python', rate)) });
  printResult({ bench: 'service-framework', case: 'req-rep-p50', against: 'service-framework', unit: 'ms', ours: Number(m('ours', (x) => x.p50).toFixed(3)), baseline: Number(m('python', (x) => x.p50).toFixed(3)), lowerIsBetter: true });
  printResult({ bench: 'service-framework', case: 'req-rep-p99', against: 'service-framework', unit: 'ms', ours: Number(m('ours', (x) => x.p99).toFixed(3)), baseline: Number(m('python', (x) => x.p99).toFixed(3)), lowerIsBetter: true });
}

async function pubSub(): Promise<void> {
  const sides: (Side & { pub: Peer; sub: Peer; counted: number; perRound: number })[] = [];
  for (const kind of KINDS) {
    const address = `127.0.0.1:${await freePort()}`;
    const pub = await startService(kind, 'publisher', address);
    const sub = await startService(kind, 'subscriber', address);
    sides.push({ kind, peers: [pub, sub], pub, sub, counted: 0, perRound: 0 });
    if (kind === 'ours') await sub.expect(ready, '"ready"');
    await pub.expect(ready, '"ready"');
  }
  /** Publishes `count` (a multiple of 100) and relays the subscriber's progress; msg/s. */
  const publish = async (side: (typeof sides)[number], count: number): Promise<number> => {
    turn(sides, side.kind);
    const target = side.counted + count;
    const started = performance.now();
    side.pub.send(`pub ${count}`);
    while (side.counted < target) {
      side.counted = await side.sub.expect((l) => (l.startsWith('got ') ? Number(l.slice(4)) : undefined), `"got" (at ${side.counted} of ${target})`, 60_000);
      side.pub.send(`got ${side.counted}`);
    }
    const rate = count / ((performance.now() - started) / 1000);
    await side.pub.expect((l) => (l === 'ok' ? true : undefined), '"ok"');
    return rate;
  };
  for (const side of sides) {
    turn(sides, side.kind);
    side.pub.send('probe');
    await side.sub.expect((l) => (l === 'probe' ? true : undefined), 'the first probe message', 60_000);
    side.pub.send('stop');
    await side.pub.expect((l) => (l === 'ok' ? true : undefined), '"ok" after probing');
    // Warm up (JIT, connections), then size the rounds: each side's round publishes what
    // it did in ROUND_MS in a second warm-up round, itself sized by the first.
    const roundOf = (rate: number) => Math.max(100, Math.round((rate * ROUND_MS) / 1000 / 100) * 100);
    side.perRound = roundOf(await publish(side, roundOf(await publish(side, 2000))));
  }
  console.log(`${at()} pub-sub: messages per round ${sides.map((s) => `${s.kind} ${s.perRound}`).join(', ')}`);
  const runs = await alternate(ROUNDS, Object.fromEntries(sides.map((s) => [s.kind, () => publish(s, s.perRound)])) as Record<Kind, () => Promise<number>>, (round, last) =>
    console.log(`${at()} pub-sub round ${round + 1}: ` + KINDS.map((k) => `${k} ${last[k].toFixed(0)} msg/s`).join(' | ')),
  );
  for (const s of sides) for (const p of s.peers) p.thaw();
  for (const s of sides) for (const p of s.peers) await p.kill();
  printResult({ bench: 'service-framework', case: 'pub-sub', against: 'service-framework', unit: 'msg/s', ours: Math.round(median(runs.ours)), baseline: Math.round(median(runs.python)) });
}

try {
  console.log(`service-framework: ${ROUNDS} rounds of ~${ROUND_MS} ms per side`);
  await reqRep();
  await pubSub();
} finally {
  await killAllPeers();
}
