// `switchyard run --instances 3`: one supervisor, three copies consuming one queue. A copy
// killed mid-stream is restarted and nothing is lost; SIGTERM drains every copy and the
// supervisor exits 0 with no copy left behind.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertNoLoss, Collector, ids, log, publishIds, startRig, type Rig } from './fault-kit.js';

const MESSAGES = 300;

/** Live child processes of `pid` (the copies under the supervisor). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

describe('run --instances', () => {
  let rig: Rig | undefined;
  let collector: Collector | undefined;
  after(async () => {
    await collector?.stop();
    await rig?.close();
  });

  it(`3 copies share ${MESSAGES} messages; a killed copy is restarted, nothing lost; SIGTERM drains all`, { timeout: 120_000 }, async () => {
    const list = ids(MESSAGES);
    rig = await startRig({ seed: list });
    collector = new Collector(rig.broker.url, ['done']);
    await collector.start();
    const supervisor = rig.spawnWorker('single.ts', { env: { SY_FAULT_CONCURRENCY: '4', SY_FAULT_DELAY_MS: '20' }, args: ['--instances', '3'] });
    const deadline = Date.now() + 40_000;
    while (supervisor.lines('worker started').length < 3) {
      assert.ok(Date.now() < deadline, `3 copies did not start:\n${supervisor.tail()}`);
      await sleep(50);
    }
    const copies = childrenOf(supervisor.pid);
    assert.equal(copies.length, 3, 'three copies run under the supervisor');

    const publishing = publishIds(rig.broker.url, 'single-in', list, { batch: 50, pauseMs: 50 });
    while (collector.unique < MESSAGES / 4) await sleep(20);
    process.kill(copies[0]!, 'SIGKILL');
    while (supervisor.lines('instance died; restarting it').length < 1) await sleep(20);
    while (supervisor.lines('worker started').length < 4) {
      assert.ok(Date.now() < deadline + 30_000, `the killed copy was not restarted:\n${supervisor.tail()}`);
      await sleep(50);
    }
    assert.equal((await publishing).confirmed, MESSAGES);
    const missing = await collector.waitForAll(list, 60_000);
    assertNoLoss('ids at done', missing, [supervisor]);

    const running = childrenOf(supervisor.pid);
    assert.equal(running.length, 3, 'three copies again after the restart');
    assert.ok(!running.includes(copies[0]!), 'the killed copy is not among them');
    supervisor.kill('SIGTERM');
    const exit = await supervisor.exited(30_000);
    assert.equal(exit.code, 0, `the supervisor exits 0 after draining:\n${supervisor.tail()}`);
    for (const pid of running) assert.throws(() => process.kill(pid, 0), 'no copy is left running');
    assert.equal(supervisor.lines('worker stopped').length, 3, 'each running copy drained and stopped its worker');
    log(`instances: ${MESSAGES} messages over 3 copies, 1 killed and restarted; results ${collector.unique} unique, ${collector.duplicates} duplicates`);
  });
});
