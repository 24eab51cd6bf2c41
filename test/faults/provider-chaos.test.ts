// Chaos for the provider model (issue 17): two providers of one task as real processes
// (priorities 90 and 50), a coordinator client sending 2,000
// requests at concurrency 6, and 20 SIGKILLs at random points of the load, alternating
// between the two, each followed by a restart (which replaces the stale socket). The client
// fails over past a dead provider while nothing was acked; a request acked by a provider
// that then died ends in SY_ERR_TASK_TIMEOUT. Counted, and asserted:
//   hanging    requests that neither resolved nor failed (must be 0)
//   twice      requests whose response arrived twice at the client's hook (must be 0)
//   ran twice  requests whose handler ran in more than one process (must be 0: a handler
//              starts only once its ack is written, and a client only fails over without one)
//   crossed    results that answer another request (must be 0)

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoordinatorClient, RequestTracker } from '../../src/models/provider/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import type { AcommResponse } from '../../src/transports/unix/mod.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { requireBuild, ROOT, waitFor } from '../cli/cli-helpers.js';
import { shortTempDir } from '../provider/kit.js';

const TOTAL = 2_000;
const CONCURRENCY = 6;
const KILLS = 20;
const REQUEST_TIMEOUT_MS = 1_500;
/** A request not settled this long after its own timeout is hanging. */
const HANG_GRACE_MS = 5_000;

// The provider process: the model's own stopOnSignal() program, as the README shows, rather
// than `switchyard provider run`, whose start (~3 s on the shared test machine, loading the
// whole CLI) would make 20 restarts cost a minute; that command's kill and restart are
// covered by test/provider/provider-process.test.ts. Each handler run is appended to a
// file per process before the work starts, so runs survive the SIGKILL that ends them.
const LAUNCHER = (dist: string) => `
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { provider } from ${JSON.stringify(dist)};
const [socketDir, name, priority, outDir] = process.argv.slice(2);
const p = provider({ service_name: name, socket_dir: socketDir, default_priority: Number(priority), log_level: 'error' });
const ran = join(outDir, 'ran-' + name + '-' + process.pid);
p.registerTask('Work', async (req) => {
  appendFileSync(ran, req.id + '\\n');
  await new Promise((r) => setTimeout(r, 2 + Math.random() * 10));
  return { id: req.id, service: name };
});
await p.start();
console.log('serving');
await p.stopOnSignal();
`;

interface ProviderProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  stdout: string;
  stderr: string;
}

const live = new Set<ChildProcess>();
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // gone
  }
}

/** A tracker that counts the responses reaching the client's hook, per request id. */
class CountingTracker extends RequestTracker {
  readonly responses = new Map<string, number>();
  override handleResponse(response: AcommResponse): void {
    this.responses.set(response.id, (this.responses.get(response.id) ?? 0) + 1);
    super.handleResponse(response);
  }
}

describe('provider chaos: SIGKILLs under load with priority fallback', { timeout: 180_000 }, () => {
  let tmp: { dir: string; remove(): Promise<void> };
  let sockets: string;
  let launcher: string;
  const procs = new Map<string, ProviderProcess>();

  const startProvider = async (name: string, priority: number): Promise<void> => {
    // Its own process group, killed by PID in after() even when the test failed.
    const child = spawn(process.execPath, [launcher, sockets, name, String(priority), tmp.dir], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    const p: ProviderProcess = {
      child,
      stdout: '',
      stderr: '',
      exited: new Promise((resolve) => child.once('close', () => {
        live.delete(child);
        resolve();
      })),
    };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (p.stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (p.stderr += d));
    procs.set(name, p);
    let ended = false;
    void p.exited.then(() => (ended = true));
    await waitFor(() => `provider ${name} to serve (stderr: ${p.stderr})`, () => p.stdout.includes('serving') || ended, 30_000);
    assert.equal(ended, false, p.stderr);
  };

  before(async () => {
    requireBuild();
    tmp = await shortTempDir();
    sockets = join(tmp.dir, 's');
    launcher = join(tmp.dir, 'provider.mjs');
    await writeFile(launcher, LAUNCHER(join(ROOT, 'dist', 'models', 'provider', 'mod.js')));
  });
  after(async () => {
    for (const child of live) killGroup(child);
    await tmp?.remove();
  });

  it(`${TOTAL} requests, ${KILLS} kills: none hanging, none answered or run twice`, async () => {
    await Promise.all([startProvider('hi', 90), startProvider('lo', 50)]);
    const tracker = new CountingTracker({ socketPath: join(sockets, 'response', 'chaos-client.sock'), logger: createLogger({ level: 'silent' }) });
    await tracker.start();
    const client = new CoordinatorClient({ socketDir: sockets, tracker, timeoutMs: REQUEST_TIMEOUT_MS, logger: createLogger({ level: 'silent' }) });

    const outcomes = new Map<string, number>();
    const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    const servedBy = new Map<string, number>();
    let hanging = 0;
    let crossed = 0;
    const one = async (i: number): Promise<void> => {
      const id = `req-${i}`;
      let guard: NodeJS.Timeout | undefined;
      const hang = new Promise<'hang'>((resolve) => (guard = setTimeout(() => resolve('hang'), REQUEST_TIMEOUT_MS + HANG_GRACE_MS)));
      const settled = client.request('Work', { i }, { id }).then(
        (r) => {
          if ((r.result as { id: string }).id !== id) crossed++;
          servedBy.set(r.provider.service, (servedBy.get(r.provider.service) ?? 0) + 1);
          return 'ok';
        },
        (err: Error & { code?: string }) => err.code ?? err.name,
      );
      const outcome = await Promise.race([settled, hang]);
      clearTimeout(guard);
      if (outcome === 'hang') hanging++;
      count(outcome);
    };

    // Kill points: one per 95 requests, at a random place inside each stretch (the last by ~1,900).
    const thresholds = Array.from({ length: KILLS }, (_, k) => 40 + 95 * k + Math.floor(Math.random() * 50));
    let nextKill = 0;
    let kills = 0;
    let killing: Promise<void> | undefined;
    const killOne = async (victim: string): Promise<void> => {
      const p = procs.get(victim)!;
      killGroup(p.child);
      await p.exited;
      kills++;
      await startProvider(victim, victim === 'hi' ? 90 : 50);
    };

    let issued = 0;
    let completed = 0;
    const started = performance.now();
    const worker = async () => {
      while (issued < TOTAL) {
        // A restart slower than the stretch to the next kill point: the load waits rather than skip it.
        if (killing && nextKill < KILLS && completed >= thresholds[nextKill]!) await killing;
        const i = issued++;
        await one(i);
        completed++;
        if (!killing && nextKill < KILLS && completed >= thresholds[nextKill]!) {
          // Alternating: the preferred provider (its load falls back to the other) and the fallback.
          const victim = nextKill % 2 === 0 ? 'hi' : 'lo';
          nextKill++;
          killing = killOne(victim).finally(() => (killing = undefined));
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await killing;
    const seconds = (performance.now() - started) / 1000;
    // Late responses (to requests that already timed out) still count towards "twice".
    await new Promise((r) => setTimeout(r, 500));

    const answeredTwice = [...tracker.responses.values()].filter((n) => n > 1).length;
    const runs = new Map<string, number>();
    for (const f of readdirSync(tmp.dir).filter((n) => n.startsWith('ran-'))) {
      for (const id of readFileSync(join(tmp.dir, f), 'utf8').split('\n').filter(Boolean)) runs.set(id, (runs.get(id) ?? 0) + 1);
    }
    const ranTwice = [...runs.values()].filter((n) => n > 1).length;
    const summary = `${TOTAL} requests, ${kills} kills in ${seconds.toFixed(1)} s: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}; served by ${[...servedBy].map(([k, v]) => `${k} ${v}`).join(', ')}; hanging ${hanging}, answered twice ${answeredTwice}, ran twice ${ranTwice}, crossed ${crossed}`;
    console.log(`provider chaos: ${summary}`);

    await client.stop();
    await tracker.stop();
    assert.equal(kills, KILLS, summary);
    assert.equal(hanging, 0, summary);
    assert.equal(answeredTwice, 0, summary);
    assert.equal(ranTwice, 0, summary);
    assert.equal(crossed, 0, summary);
    assert.equal([...outcomes.values()].reduce((a, b) => a + b, 0), TOTAL);
    // Most requests succeed: failures are the ones in flight at a kill (timeouts) or while both were down.
    assert.ok((outcomes.get('ok') ?? 0) >= TOTAL * 0.8, summary);
    assert.ok((servedBy.get('lo') ?? 0) > 0, `the lower priority provider served while the higher one was down: ${summary}`);
  });
});
