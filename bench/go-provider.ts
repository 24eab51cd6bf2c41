// Switchyard's provider model against the original Go code (mistifyio/provider and acomm in
// ../shared/upstream/mistify-gopath), in the same run: requests/s, p50 and p99 of the
// CPUInfo task at concurrency 1 and 32, for four pairs of client → provider:
//   go          the Go acomm client (bench/go/acomm-client) → Go provider-simple, unchanged
//   ours        our coordinator client (bench/_provider-ours.ts) → our provider
//               (`switchyard provider run bench/_provider-cpuinfo.ts`, the same task)
//   go-to-ours  the Go client → our provider      (printed against go → go)
//   ours-to-go  our client → the Go provider      (printed against go → go: the Go client)
// Both providers run all along, each in a socket folder of its own; every round starts a
// fresh client process that makes WARM requests, then the measured ones, and prints JSON.
// The pairs take turns in alternating order (bench/_result.ts); medians of the rounds.
// Besides wall-clock figures it measures CPU time per request, which a loaded machine
// disturbs far less: each client reports its own (getrusage / process.cpuUsage) over the
// measured requests, and the providers' is read from /proc (every process of the group:
// a cluster primary and its copies) around exactly those requests (the clients wait after
// their warm-up until told to go).
// The Go code is built first, in a copy of the GOPATH (go writes into it), with Debian's
// golang-go: GO111MODULE=off GOPATH=<copy> go build …
//   npm run bench -- go-provider [rounds=5] [requestsC1=1500] [requestsC32=4000] [instances=1]
// instances: copies of our provider (`switchyard provider run --instances N`; "auto" = cores).

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { jsonLine, killAllPeers, nodeScript, startPeer, tempFolder, upstreamDir, type Peer } from './_peers.js';
import { groupCpuMs, groupSched, schedDelta, type SchedSample } from './_proc-cpu.js';
import { alternate, median, printResult } from './_result.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const LEVELS = [
  { concurrency: 1, requests: Number(process.argv[3] ?? 1500) },
  { concurrency: 32, requests: Number(process.argv[4] ?? 4000) },
];
const INSTANCES = process.argv[5] ?? '1';
const WARM = 500;

interface Run {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  /** The client's CPU time over the measured requests, ms. */
  cpu_ms: number;
  /** The client's threads' time waiting for a CPU (ms) and its context switches, over the measured requests. */
  runq_ms: number;
  voluntary: number;
  involuntary: number;
  /** Added here: the provider's CPU time over the same requests (its whole process group), ms. */
  providerCpuMs: number;
  /** Added here: how the scheduler treated the provider's process group over the same requests. */
  providerSched: SchedSample;
  error?: string;
}
type PairName = 'go' | 'ours' | 'go-to-ours' | 'ours-to-go';
const PAIRS: PairName[] = ['go', 'ours', 'go-to-ours', 'ours-to-go'];

const work = tempFolder('sy-bench-go-');
const began = performance.now();
const at = () => `[${((performance.now() - began) / 1000).toFixed(0)} s]`;

/** Makes every directory and file under `dir` writable by us (the upstream copy is read-only). */
async function writable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await writable(path);
    else await chmod(path, ((await stat(path)).mode & 0o777) | 0o200);
  }
}

/** Builds provider-simple and our acomm client; returns the two executables. */
async function buildGo(): Promise<{ provider: string; client: string }> {
  const gopath = join(work, 'gopath');
  await cp(upstreamDir('mistify-gopath'), gopath, { recursive: true });
  await writable(gopath);
  await mkdir(join(gopath, 'src/switchyard.bench'), { recursive: true });
  await cp(fileURLToPath(new URL('./go/acomm-client', import.meta.url)), join(gopath, 'src/switchyard.bench/acomm-client'), { recursive: true });
  const out = { provider: join(work, 'bin/provider-simple'), client: join(work, 'bin/acomm-client') };
  for (const [exe, pkg] of [[out.provider, 'github.com/mistifyio/provider/examples/simple/cmd/provider-simple'], [out.client, 'switchyard.bench/acomm-client']] as const) {
    const built = spawnSync('go', ['build', '-o', exe, pkg], { cwd: gopath, env: { ...process.env, GO111MODULE: 'off', GOPATH: gopath }, encoding: 'utf8' });
    if (built.error) throw new Error(`go is not installed (${built.error.message}); install it with: apt-get install -y golang-go`);
    if (built.status !== 0) throw new Error(`go build ${pkg} failed:\n${built.stderr}`);
  }
  return out;
}

async function waitForFile(path: string, what: string, peer: Peer): Promise<void> {
  for (let i = 0; !existsSync(path); i++) {
    if (i > 200) throw new Error(`${what}: ${path} did not appear within 20 s`);
    await Promise.race([new Promise((r) => setTimeout(r, 100)), peer.exited.then((code) => Promise.reject(new Error(`${what} exited (${code})`)))]);
  }
}

interface Sockets {
  go: string;
  ours: string;
  goDir: string;
  oursDir: string;
  /** Process groups of the two providers, for their CPU time. */
  goPid: number;
  oursPid: number;
}

async function clientRound(go: { client: string }, sockets: Sockets, pair: PairName, concurrency: number, requests: number): Promise<Run> {
  const target = pair === 'go' || pair === 'ours-to-go' ? 'go' : 'ours';
  const peer =
    pair === 'go' || pair === 'go-to-ours'
      ? startPeer(`${pair} client`, go.client, ['-socket', sockets[target], '-c', String(concurrency), '-n', String(requests), '-warm', String(WARM), '-hook-dir', work, '-sync'])
      : startPeer(`${pair} client`, ...nodeScript('./_provider-ours.ts', ['client', target === 'go' ? sockets.goDir : sockets.oursDir, String(concurrency), String(requests), String(WARM), 'sync']));
  try {
    await peer.expect((l) => (l === 'warmed' ? true : undefined), '"warmed"');
    const providerPid = target === 'go' ? sockets.goPid : sockets.oursPid;
    const before = groupCpuMs(providerPid);
    const schedBefore = groupSched(providerPid);
    peer.send('go');
    const run = await peer.expect(jsonLine<Run>, 'its JSON result');
    run.providerCpuMs = groupCpuMs(providerPid) - before;
    run.providerSched = schedDelta(schedBefore, groupSched(providerPid));
    if (run.error || run.errors > 0) throw new Error(`${pair} c${concurrency}: ${run.error ?? `${run.errors} of ${requests} requests failed`}`);
    return run;
  } finally {
    await peer.kill();
  }
}

/** CPU microseconds per request. */
const perRequest = (ms: number, requests: number) => (ms * 1000) / requests;

/**
 * Per request, per pair: the client's run-queue wait (µs its threads were runnable but had
 * no CPU: a one-thread client's latency tail is made of it) and its context switches
 * (voluntary/involuntary), then the provider's context switches (a Go provider that goes idle
 * and is woken again pays for each in CPU). Diagnostics, not RESULT lines.
 */
function schedLine(runs: Record<PairName, Run>, requests: number): string {
  const per = (n: number) => (n / requests).toFixed(2);
  return (
    'scheduler per request (client run-queue µs, switches vol/invol; provider switches vol/invol): ' +
    PAIRS.map((p) => {
      const r = runs[p];
      const client = r.runq_ms === undefined ? 'n/a' : `${perRequest(r.runq_ms, requests).toFixed(0)} µs, ${per(r.voluntary)}/${per(r.involuntary)}`;
      return `${p} ${client}; ${per(r.providerSched.voluntary)}/${per(r.providerSched.involuntary)}`;
    }).join(' | ')
  );
}

try {
  console.log(`go-provider: ${ROUNDS} rounds; ${LEVELS.map((l) => `c${l.concurrency} ${l.requests} requests`).join(', ')} (+${WARM} warm-up each); our provider --instances ${INSTANCES}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  const go = await buildGo();
  console.log(`${at()} built provider-simple and acomm-client`);

  const goDir = join(work, 'go');
  await mkdir(goDir);
  const goConfig = join(work, 'provider-simple.json');
  await writeFile(goConfig, JSON.stringify({ service_name: 'provider-simple', socket_dir: goDir, coordinator_url: `unix://${goDir}/coordinator/coordinator.sock` }));
  const goProvider = startPeer('Go provider-simple', go.provider, ['-c', goConfig]);
  const goSocket = join(goDir, 'CPUInfo/50-provider-simple.sock');
  await waitForFile(goSocket, 'Go provider-simple', goProvider);

  const oursDir = join(work, 'ours');
  const cli = fileURLToPath(new URL('../bin/switchyard.js', import.meta.url));
  const module = fileURLToPath(new URL('./_provider-cpuinfo.ts', import.meta.url));
  const oursProvider = startPeer('our provider', process.execPath, [cli, 'provider', 'run', module, '-s', oursDir, '-l', 'warning', ...(INSTANCES === '1' ? [] : ['--instances', INSTANCES])]);
  // Each copy prints its "serving" line once its socket is up.
  const copies = INSTANCES === 'auto' ? availableParallelism() : Number(INSTANCES);
  let oursSocket = '';
  for (let i = 0; i < copies; i++) oursSocket = await oursProvider.expect((l) => /^provider \S+ serving (\S+)$/.exec(l)?.[1], '"serving"');
  const sockets: Sockets = { go: goSocket, ours: oursSocket, goDir, oursDir, goPid: goProvider.pid, oursPid: oursProvider.pid };

  for (const { concurrency, requests } of LEVELS) {
    const sides = Object.fromEntries(PAIRS.map((p) => [p, () => clientRound(go, sockets, p, concurrency, requests)])) as Record<PairName, () => Promise<Run>>;
    const runs = await alternate(ROUNDS, sides, (round, last) => {
      console.log(`${at()} c${concurrency} round ${round + 1}: ` + PAIRS.map((p) => `${p} ${last[p].rps.toFixed(0)} req/s p50 ${last[p].p50.toFixed(3)} p99 ${last[p].p99.toFixed(3)} ms`).join(' | '));
      console.log(`${at()} c${concurrency} round ${round + 1} CPU µs/request (client + provider): ` + PAIRS.map((p) => `${p} ${perRequest(last[p].cpu_ms, requests).toFixed(0)} + ${perRequest(last[p].providerCpuMs, requests).toFixed(0)}`).join(' | '));
      console.log(`${at()} c${concurrency} round ${round + 1} ${schedLine(last, requests)}`);
    });
    const m = (p: PairName, k: 'rps' | 'p50' | 'p99') => median(runs[p].map((r) => r[k]));
    const cpu = (p: PairName, side: 'client' | 'provider') => Math.round(median(runs[p].map((r) => perRequest(side === 'client' ? r.cpu_ms : r.providerCpuMs, requests))));
    const report = (caseName: string, p: PairName, against: string) => {
      printResult({ bench: 'go-provider', case: `c${concurrency}${caseName}`, against, unit: 'req/s', ours: Math.round(m(p, 'rps')), baseline: Math.round(m('go', 'rps')) });
      printResult({ bench: 'go-provider', case: `c${concurrency}${caseName}-p50`, against, unit: 'ms', ours: Number(m(p, 'p50').toFixed(3)), baseline: Number(m('go', 'p50').toFixed(3)), lowerIsBetter: true });
      printResult({ bench: 'go-provider', case: `c${concurrency}${caseName}-p99`, against, unit: 'ms', ours: Number(m(p, 'p99').toFixed(3)), baseline: Number(m('go', 'p99').toFixed(3)), lowerIsBetter: true });
    };
    const medianRuns = Object.fromEntries(
      PAIRS.map((p) => {
        const m = (f: (r: Run) => number) => median(runs[p].map(f));
        const run = { runq_ms: m((r) => r.runq_ms), voluntary: m((r) => r.voluntary), involuntary: m((r) => r.involuntary), providerSched: { runqMs: m((r) => r.providerSched.runqMs), voluntary: m((r) => r.providerSched.voluntary), involuntary: m((r) => r.providerSched.involuntary) } };
        return [p, run as Run];
      }),
    ) as Record<PairName, Run>;
    console.log(`${at()} c${concurrency} medians: ${schedLine(medianRuns, requests)}`);
    report('', 'ours', 'go-acomm-provider');
    report('-go-client-our-provider', 'go-to-ours', 'go-acomm-provider');
    report('-our-client-go-provider', 'ours-to-go', 'go-acomm-provider');
    // CPU per request, lower is better: our provider (served by the Go client, and by ours) against
    // the Go provider served by the Go client; our client (against the Go provider) against the Go client.
    const goProviderCpu = cpu('go', 'provider');
    printResult({ bench: 'go-provider', case: `c${concurrency}-provider-cpu`, against: 'go-acomm-provider', unit: 'us/req', ours: cpu('go-to-ours', 'provider'), baseline: goProviderCpu, lowerIsBetter: true });
    printResult({ bench: 'go-provider', case: `c${concurrency}-provider-cpu-our-client`, against: 'go-acomm-provider', unit: 'us/req', ours: cpu('ours', 'provider'), baseline: goProviderCpu, lowerIsBetter: true });
    printResult({ bench: 'go-provider', case: `c${concurrency}-client-cpu`, against: 'go-acomm-client', unit: 'us/req', ours: cpu('ours-to-go', 'client'), baseline: cpu('go', 'client'), lowerIsBetter: true });
  }
} finally {
  await killAllPeers();
}
