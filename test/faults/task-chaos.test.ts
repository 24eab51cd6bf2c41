// Chaos for the task model: a task service process (`switchyard run`) under load from an
// engine-like driver, killed at random points (mostly SIGKILL, some SIGTERM) and started
// again, while the engine stand-in and the S3 server are each restarted mid-stream.
//
// The driver acts as the Core engine does: each task is POSTed once; an answer other than
// 200 (503, or a connection error because the service died) means the task was not taken
// and the next task gets a new id. What the task model promises, and what is asserted:
//   - no request hangs: every POST /compute is answered or fails with an error (0 hung);
//   - every task a service accepted gets its callback (finished, or error when S3 was
//     down), unless that process was SIGKILLed before the engine was told: such tasks are
//     lost with the process (as with the reference service). None is lost to SIGTERM, to an
//     engine restart (callbacks are retried) or to an S3 restart (the task ends in error);
//   - a callback comes twice only when the engine went down while answering it (its first
//     copy arrived just before an engine stop);
//   - a callback for a task whose POST failed ("ghost": the service took it, its answer was
//     lost with the process) happens only for POSTs that failed with a connection error.
// Counts are printed. Bounded: 240 tasks taken or lost, 5 kills; about 25 s on a quiet 2-core machine.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { jsonLines, killAll, requireBuild, start, type Cli } from '../cli/cli-helpers.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';
import { startEngine, type EngineStandIn } from '../task/engine-stand-in.js';
import { FIXTURES } from './fault-kit.js';

const TASKS = 240;
const KILLS = 5;
const CLIENTS = 8;
const BUCKET = 'engine';
const ACCESS_KEY = 'CHAOSTASKKEY';
const SECRET_KEY = 'chaos-task-secret';

function log(line: string): void {
  console.log(`task-chaos: ${line}`);
}

let s3: S3Server;
let engine: EngineStandIn;

before(async () => {
  requireBuild();
  s3 = await startS3Server({ buckets: [BUCKET], accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
  const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'chaos.txt', Body: 'chaos in' }));
  client.destroy();
  engine = await startEngine();
});
after(async () => {
  killAll();
  await engine?.close();
  await s3?.close();
});

interface ServiceProcess {
  readonly cli: Cli;
  readonly url: string;
  /** Tasks this process answered 200. */
  readonly accepted: Set<string>;
}

async function spawnService(): Promise<ServiceProcess> {
  const cli = start(['run', join(FIXTURES, 'task-upper.ts'), '--log-level', 'info'], {
    env: {
      SERVICE_PORT: '0', ENGINE_URLS: JSON.stringify([engine.url]), ENGINE_ANNOUNCE_RETRY_DELAY: '0.1', ENGINE_ANNOUNCE_RETRIES: '50',
      HEARTBEAT_INTERVAL: '0.5', MAX_TASKS: '20', TASK_CONCURRENCY: '4',
      CALLBACK_RETRIES: '400', CALLBACK_RETRY_DELAY: '0.05', CALLBACK_RETRY_MAX_DELAY: '0.25',
    },
  });
  for (let i = 0; i < 600; i++) {
    const line = jsonLines(cli.stdout()).find((l) => l.msg === 'task service listening');
    if (line) return { cli, url: String(line.url), accepted: new Set() };
    if (cli.hasExited()) break;
    await sleep(25);
  }
  cli.kill('SIGKILL');
  throw new Error(`the task service did not start within 15 s\nstdout: ${cli.stdout()}\nstderr: ${cli.stderr()}`);
}

function taskBody(id: string): string {
  return JSON.stringify({
    s3_access_key_id: ACCESS_KEY, s3_secret_access_key: SECRET_KEY, s3_region: 'eu-central-2', s3_host: s3.endpoint, s3_bucket: BUCKET,
    task: { data_in: ['chaos.txt'], data_out: null, status: 'pending', service_id: '3fa85f64-5717-4562-b3fc-2c963f66afa6', pipeline_execution_id: null, id },
    callback_url: `${engine.url}/tasks/${id}`,
  });
}

describe('task service chaos: kills under load, engine and S3 restarts', () => {
  it(`${TASKS} tasks, ${KILLS} kills: no request hangs; every accepted task gets its callback unless its process was SIGKILLed first; duplicates only from engine restarts`, async () => {
    const counts = { posted: 0, accepted: 0, full: 0, connectionErrors: 0, otherStatus: 0, hung: 0, sigkills: 0, sigterms: 0, engineRestarts: 0, s3Restarts: 0 };
    const callbackTimes = new Map<string, number[]>();
    engine.onRequest = (r) => {
      const m = /^\/tasks\/([^/]+)$/.exec(r.path);
      if (r.method === 'PATCH' && m) callbackTimes.set(m[1]!, [...(callbackTimes.get(m[1]!) ?? []), Date.now()]);
    };
    const engineStops: number[] = [];
    const failedPosts = new Set<string>();
    const lostWithKill = new Set<string>();
    const acceptedBySigterm = new Set<string>();
    const all: ServiceProcess[] = [];
    const spawnMs: number[] = [];

    let current = await spawnService();
    all.push(current);
    let serviceUp: Promise<ServiceProcess> = Promise.resolve(current);
    const told = (id: string) => (engine.callbacks.get(id)?.length ?? 0) > 0;

    // Engine-like clients: each POSTs tasks one after another until TASKS were taken or lost
    // with a connection error (a 503 is back-pressure: the client waits a moment and posts anew).
    const settled = () => counts.accepted + counts.connectionErrors + counts.hung + counts.otherStatus;
    const client = async () => {
      while (settled() < TASKS) {
        const svc = await serviceUp;
        const id = randomUUID();
        counts.posted++;
        try {
          const res = await fetch(`${svc.url}/compute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: taskBody(id), signal: AbortSignal.timeout(15_000) });
          await res.arrayBuffer();
          if (res.status === 200) {
            counts.accepted++;
            svc.accepted.add(id);
          } else if (res.status === 503) {
            counts.full++;
            await sleep(100);
          } else {
            counts.otherStatus++;
          }
        } catch (err) {
          if ((err as Error).name === 'TimeoutError') counts.hung++;
          else counts.connectionErrors++;
          failedPosts.add(id);
        }
      }
    };

    // The chaos: kills spread over the run, one engine restart and one S3 restart between them.
    const chaos = async () => {
      // Four SIGKILLs and one SIGTERM, the engine restart after the second kill, S3's after the fourth.
      const events: ('SIGKILL' | 'SIGTERM' | 'engine' | 's3')[] = ['SIGKILL', 'SIGKILL', 'engine', 'SIGTERM', 'SIGKILL', 's3', 'SIGKILL'];
      assert.equal(events.filter((e) => e.startsWith('SIG')).length, KILLS);
      // mulberry32, seeded: where in the load each event lands varies within a bound, reproducibly.
      let seed = 0x5eed;
      const rand = (n: number) => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
      };
      for (const [i, event] of events.entries()) {
        const due = Math.floor(((i + 1) * TASKS) / (events.length + 1)) + rand(Math.floor(TASKS / (events.length + 1) / 2));
        while (settled() < due) await sleep(5);
        await sleep(rand(40));
        if (event === 'engine') {
          await engine.stop();
          engineStops.push(Date.now());
          counts.engineRestarts++;
          await sleep(600);
          await engine.restart();
        } else if (event === 's3') {
          await s3.stop();
          counts.s3Restarts++;
          await sleep(400);
          await s3.restart();
        } else {
          const victim = current;
          let nowUp!: (p: ServiceProcess) => void;
          serviceUp = new Promise((r) => (nowUp = r));
          const graceful = event === 'SIGTERM';
          if (graceful) {
            counts.sigterms++;
            victim.cli.kill('SIGTERM');
          } else {
            counts.sigkills++;
            victim.cli.kill('SIGKILL');
          }
          const exit = await victim.cli.exited;
          if (graceful) {
            assert.equal(exit.code, 0, `SIGTERM exits 0: ${victim.cli.stderr()}`);
            for (const id of victim.accepted) acceptedBySigterm.add(id);
          } else {
            // Whatever this process took and had not told the engine is lost with it.
            for (const id of victim.accepted) if (!told(id)) lostWithKill.add(id);
          }
          const spawning = Date.now();
          current = await spawnService();
          spawnMs.push(Date.now() - spawning);
          all.push(current);
          nowUp(current);
        }
      }
    };

    const began = Date.now();
    await Promise.all([chaos(), ...Array.from({ length: CLIENTS }, client)]);

    // Let the last process tell the engine about everything it took, then stop it gracefully.
    const accepted = all.flatMap((p) => [...p.accepted]);
    const stillOwed = () => [...current.accepted].filter((id) => !told(id)).length;
    for (let i = 0; i < 600 && stillOwed() > 0; i++) await sleep(50);
    current.cli.kill('SIGTERM');
    assert.equal((await current.cli.exited).code, 0, current.cli.stderr());
    for (const id of current.accepted) acceptedBySigterm.add(id);

    const missing = accepted.filter((id) => !told(id));
    const duplicates = [...engine.callbacks].filter(([, list]) => list.length > 1).map(([id]) => id);
    const ghosts = [...engine.callbacks.keys()].filter((id) => !accepted.includes(id));
    const byStatus: Record<string, number> = {};
    for (const id of accepted) {
      const status = String((engine.callbacks.get(id)?.[0] as { status?: string } | undefined)?.status ?? 'none');
      byStatus[status] = (byStatus[status] ?? 0) + 1;
    }
    log(`${counts.posted} posted in ${((Date.now() - began) / 1000).toFixed(1)} s: ${counts.accepted} accepted, ${counts.full} answered 503, ${counts.connectionErrors} failed with a connection error, ${counts.otherStatus} other, ${counts.hung} hung`);
    log(`chaos: ${counts.sigkills} SIGKILL, ${counts.sigterms} SIGTERM, ${counts.engineRestarts} engine restart(s), ${counts.s3Restarts} S3 restart(s); restarts of the service took ${spawnMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s`);
    log(`callbacks of accepted tasks: ${JSON.stringify(byStatus)}; missing ${missing.length} (at risk at a SIGKILL: ${lostWithKill.size}); duplicates ${duplicates.length}; ghosts ${ghosts.length}`);

    assert.equal(counts.hung, 0, 'requests left hanging without an answer or an error');
    assert.equal(counts.otherStatus, 0);
    assert.ok(counts.accepted > TASKS / 2, `only ${counts.accepted} of ${TASKS} taken`);
    for (const id of missing) assert.ok(lostWithKill.has(id), `task ${id} was accepted, its process was not SIGKILLed before telling the engine, and no callback came`);
    assert.equal([...acceptedBySigterm].filter((id) => !told(id)).length, 0, 'a task accepted by a process stopped with SIGTERM got no callback');
    for (const id of duplicates) {
      const first = callbackTimes.get(id)![0]!;
      assert.ok(engineStops.some((stop) => first <= stop && first >= stop - 2_000), `task ${id}: a second callback although the engine did not go down while answering the first`);
    }
    for (const id of ghosts) assert.ok(failedPosts.has(id), `a callback for task ${id}, which was never posted`);
  });
});
