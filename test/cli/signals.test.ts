// Stopping `switchyard run`: the first SIGTERM lets the message in flight finish (output
// uploaded, result published, acked) before exiting 0; a second one exits at once.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DIST_INDEX, jsonLines, killAll, requireBuild, runCli, start, tempDir, waitFor, type Cli } from './cli-helpers.js';

const T = { timeout: 30_000 };
const SLEEP_MS = 1_500;

const MAP = `
services:
  slow:
    in: slow-in
    out:
      - { case: true, queues: [slow-out] }
    buckets: { dst: slow-dst }
`;

// Writes a marker when process starts (so the test knows the message is in flight), sleeps,
// then writes its output object.
const WORKER = `
import { writeFileSync } from 'node:fs';
import { worker } from ${JSON.stringify(DIST_INDEX)};

export default worker('slow', async (id, { writeFile }) => {
  writeFileSync(process.env.SY_TEST_MARKER + '.' + id, 'started');
  await new Promise((resolve) => setTimeout(resolve, ${SLEEP_MS}));
  await (await writeFile('dst', id)).write('finished ' + id);
  return [[id, true]];
});
`;

interface Setup {
  readonly dir: string;
  readonly state: string;
  readonly storage: string;
  readonly marker: string;
  readonly running: Cli;
  info(): string;
  cleanup(): Promise<void>;
}

/** Starts `switchyard run slow.mts`, sends id 7, and returns once process(7) has started. */
async function inFlight(): Promise<Setup> {
  const tmp = await tempDir();
  const state = join(tmp.dir, 'state');
  const storage = join(tmp.dir, 'storage');
  const marker = join(tmp.dir, 'marker');
  await writeFile(join(tmp.dir, 'slow.mts'), WORKER);
  await writeFile(join(tmp.dir, 'sysmap.yaml'), MAP);
  const running = start(
    ['run', 'slow.mts', '--map', 'sysmap.yaml', '--state-dir', state, '--storage-dir', storage, '--staging-dir', join(tmp.dir, 'staging'), '--log-level', 'info'],
    { cwd: tmp.dir, env: { SY_TEST_MARKER: marker } },
  );
  const info = () => `exited: ${running.hasExited()}\nstdout:\n${running.stdout()}\nstderr:\n${running.stderr()}`;
  const cleanup = async () => {
    running.kill();
    await running.exited.catch(() => undefined);
    await tmp.remove();
  };
  try {
    await waitFor(() => `broker.sock\n${info()}`, () => existsSync(join(state, 'broker.sock')) || running.hasExited(), 15_000);
    assert.ok(!running.hasExited(), info());
    const send = await runCli(['send', 'slow-in', '7', '--state-dir', state], { cwd: tmp.dir });
    assert.equal(send.code, 0, send.stderr);
    await waitFor(() => `the marker\n${info()}`, () => existsSync(`${marker}.7`), 10_000);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { dir: tmp.dir, state, storage, marker, running, info, cleanup };
}

async function exitWithin(cli: Cli, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([cli.exited, new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('switchyard run: stopping on signals', () => {
  before(requireBuild);
  after(killAll);

  it('SIGTERM with a message in flight: finishes it (output stored, "message done"), then exits 0', T, async () => {
    const s = await inFlight();
    try {
      const output = join(s.storage, 'slow-dst', '7');
      const signalledAt = Date.now();
      s.running.kill('SIGTERM');
      const exit = await exitWithin(s.running, 10_000);
      assert.notEqual(exit, 'late', `still running 10 s after SIGTERM\n${s.info()}`);
      assert.deepEqual(exit, { code: 0, signal: null }, s.info());
      // It waited for process to finish its sleep rather than exiting at once.
      assert.ok(Date.now() - signalledAt >= SLEEP_MS / 2, `exited ${Date.now() - signalledAt} ms after SIGTERM`);

      assert.ok(existsSync(output), `the output object was not written\n${s.info()}`);
      const msgs = jsonLines(s.running.stdout()).map((l) => l.msg);
      const stopping = msgs.findIndex((m) => typeof m === 'string' && m.startsWith('stopping'));
      const done = jsonLines(s.running.stdout()).findIndex((l) => l.msg === 'message done' && l.id === '7' && l.service === 'slow');
      const stopped = msgs.indexOf('worker stopped');
      assert.ok(stopping >= 0, s.info());
      assert.ok(done > stopping, `"message done" must come after the stop began\n${s.info()}`);
      assert.ok(stopped > done, `"worker stopped" must come after the message finished\n${s.info()}`);
      assert.equal(existsSync(join(s.state, 'broker.sock')), false, 'the broker socket must be removed');
    } finally {
      await s.cleanup();
    }
  });

  it('a second SIGTERM while the message is in flight exits at once (143) without finishing it', T, async () => {
    const s = await inFlight();
    try {
      s.running.kill('SIGTERM');
      // Wait until the first signal was handled, so the second is not merged with it.
      await waitFor(() => `the "stopping" line\n${s.info()}`, () => jsonLines(s.running.stdout()).some((l) => String(l.msg).startsWith('stopping')), 5_000);
      const signalledAt = Date.now();
      s.running.kill('SIGTERM');
      const exit = await exitWithin(s.running, 5_000);
      assert.notEqual(exit, 'late', `still running 5 s after the second SIGTERM\n${s.info()}`);
      assert.deepEqual(exit, { code: 143, signal: null }, s.info());
      assert.ok(Date.now() - signalledAt < SLEEP_MS, `took ${Date.now() - signalledAt} ms to exit after the second SIGTERM`);

      const lines = jsonLines(s.running.stdout());
      assert.ok(!lines.some((l) => l.msg === 'message done'), `"message done" after a forced exit\n${s.info()}`);
      assert.ok(lines.some((l) => l.level === 'warn' && String(l.msg).startsWith('second signal')), s.info());
      assert.equal(existsSync(join(s.storage, 'slow-dst', '7')), false, 'the output must not have been uploaded');
    } finally {
      await s.cleanup();
    }
  });

  it('SIGINT twice exits with 130', T, async () => {
    const s = await inFlight();
    try {
      s.running.kill('SIGINT');
      await waitFor(() => `the "stopping" line\n${s.info()}`, () => jsonLines(s.running.stdout()).some((l) => String(l.msg).startsWith('stopping')), 5_000);
      s.running.kill('SIGINT');
      const exit = await exitWithin(s.running, 5_000);
      assert.deepEqual(exit, { code: 130, signal: null }, s.info());
      assert.ok(!jsonLines(s.running.stdout()).some((l) => l.msg === 'message done'), s.info());
    } finally {
      await s.cleanup();
    }
  });
});
