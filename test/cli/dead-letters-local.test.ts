// `switchyard queues` and `switchyard dead-letters` on the embedded default, with no flag:
// they reach the state folder's broker socket, and the `run` process hosting it answers
// with its own dead letters (as `send` reaches it).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UPPER_MAP, killAll, requireBuild, runCli, start, tempDir, upperWorkerSource, waitFor } from './cli-helpers.js';

const T = { timeout: 45_000 };

const MAP = UPPER_MAP;

// One try: a message whose input object is missing is dead-lettered at once.
const WORKER = upperWorkerSource('{ retry: { maxAttempts: 1 } }');

describe('switchyard queues / dead-letters on the embedded default (through the broker socket)', () => {
  before(requireBuild);
  after(killAll);

  it('lists the dead count, peeks the reason, retries after the cause is fixed, discards --all', T, async () => {
    const tmp = await tempDir();
    const state = join(tmp.dir, 'state');
    const storage = join(tmp.dir, 'storage');
    await writeFile(join(tmp.dir, 'worker.ts'), WORKER);
    await writeFile(join(tmp.dir, 'sysmap.yaml'), MAP);
    await writeFile(join(tmp.dir, 'file.txt'), 'hello\n');
    const running = start(['run', 'worker.ts', '--map', 'sysmap.yaml', '--state-dir', state, '--storage-dir', storage, '--log-level', 'warn'], { cwd: tmp.dir });
    const info = () => `run exited: ${running.hasExited()}\nstdout:\n${running.stdout()}\nstderr:\n${running.stderr()}`;
    const cli = (...args: string[]) => runCli([...args, '--state-dir', state], { cwd: tmp.dir });
    const queues = async () => {
      const r = await cli('queues', '--json');
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as Array<{ queue: string; depth: number; consumers?: number; deadLetters: number }>;
    };
    try {
      const broker = join(state, 'broker.sock');
      await waitFor(() => `${broker}\n${info()}`, () => existsSync(broker) || running.hasExited(), 15_000);
      assert.ok(!running.hasExited(), info());

      // Two messages whose input is missing: both dead-lettered.
      const sent = await cli('send', 'upper-in', '5', '6');
      assert.equal(sent.code, 0, sent.stderr);
      const dead = await waitFor(() => `2 dead letters\n${info()}`, async () => (await queues()).find((q) => q.queue === 'upper-in' && q.deadLetters === 2));
      assert.deepEqual(dead, { queue: 'upper-in', depth: 0, consumers: 1, deadLetters: 2 });
      const table = await cli('queues');
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^upper-in\s+0\s+1\s+2$/m, table.stdout);

      const list = await cli('dead-letters', 'list');
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^upper-in\s+2\s+\(upper-in\.dead-letter\)$/m);

      const peek = await cli('dead-letters', 'peek', 'upper-in', '--json');
      assert.equal(peek.code, 0, peek.stderr);
      const letters = JSON.parse(peek.stdout) as Array<{ id: string; reason: string; source: string; preview: string }>;
      assert.deepEqual(letters.map((l) => [l.preview, l.source]), [['5', 'upper-in'], ['6', 'upper-in']]);
      assert.match(letters[0]!.reason, /failed 1 time\(s\), giving up/);
      const peekText = await cli('dead-letters', 'peek', 'upper-in', '--limit', '1');
      assert.match(peekText.stdout, /reason: failed 1 time\(s\), giving up/);
      assert.doesNotMatch(peekText.stdout, /: 6$/m, 'the limit holds');

      // The cause fixed (the input stored), a retry of message 5 makes it flow.
      const put = await runCli(['put', 'src', '5', 'file.txt', '--service', 'upper', '--map', 'sysmap.yaml', '--storage-dir', storage], { cwd: tmp.dir });
      assert.equal(put.code, 0, put.stderr);
      const retry = await cli('dead-letters', 'retry', 'upper-in', letters[0]!.id);
      assert.equal(retry.code, 0, retry.stderr);
      assert.equal(retry.stdout, `sent back ${letters[0]!.id}\n`);
      const output = join(storage, 'upper-dst', '5');
      await waitFor(() => `${output}\n${info()}`, () => existsSync(output), 10_000);
      assert.equal(await readFile(output, 'utf8'), 'HELLO\n');
      const again = await cli('dead-letters', 'retry', 'upper-in', letters[0]!.id);
      assert.equal(again.code, 1, 'it is no longer there');

      const discard = await cli('dead-letters', 'discard', 'upper-in', '--all');
      assert.equal(discard.code, 0, discard.stderr);
      assert.equal(discard.stdout, 'discarded 1 dead letter(s) of upper-in\n');
      assert.equal((await queues()).find((q) => q.queue === 'upper-in')?.deadLetters, 0);
      const empty = await cli('dead-letters', 'list');
      assert.equal(empty.stdout, 'no dead letters (memory)\n');
    } finally {
      running.kill();
      await running.exited.catch(() => undefined);
      await tmp.remove();
    }
  });

  it('with no process running, names the state folder and how to start one', T, async () => {
    const tmp = await tempDir();
    try {
      for (const args of [['queues'], ['dead-letters', 'list'], ['dead-letters', 'peek', 'upper-in']]) {
        const r = await runCli([...args, '--state-dir', join(tmp.dir, 'nothing-here')], { cwd: tmp.dir });
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /SY_ERR_NO_LOCAL_BROKER: no switchyard process runs the embedded broker of .*nothing-here: start `switchyard run` or `switchyard dev`/);
      }
    } finally {
      await tmp.remove();
    }
  });
});
