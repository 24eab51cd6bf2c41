// bench/_proc-cpu.ts's scheduler counts (schedSample, groupSched): what go-provider.ts prints
// per round to show where a client's latency tail and a provider's extra CPU come from. They
// must count this process's sleeps and a busy child's preemptions, or the lines mean nothing.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { groupSched, schedDelta, schedSample } from '../../bench/_proc-cpu.js';

describe('bench scheduler counts from /proc', { timeout: 20_000 }, () => {
  it("counts this process's voluntary switches (sleeping in the event loop) and never goes backwards", async () => {
    const before = schedSample('self');
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
    const d = schedDelta(before, schedSample('self'));
    assert.ok(d.voluntary >= 5, `voluntary switches: ${d.voluntary}`);
    assert.ok(d.involuntary >= 0 && d.runqMs >= 0, JSON.stringify(d));
  });

  it("sums every process of a group: a detached child's own switches", async () => {
    // A child in a group of its own, sleeping 20 times: its group counts at least those sleeps.
    const child = spawn(process.execPath, ['-e', 'let n = 0; const t = setInterval(() => { if (++n === 20) { clearInterval(t); console.log("done"); setInterval(() => {}, 1000); } }, 2);'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((resolve) => child.stdout!.on('data', () => resolve()));
      const s = groupSched(child.pid!);
      assert.ok(s.voluntary >= 20, `the group's voluntary switches: ${s.voluntary}`);
      assert.deepEqual(groupSched(2 ** 22 + 7), { runqMs: 0, voluntary: 0, involuntary: 0 }, 'a group with no process counts nothing');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
