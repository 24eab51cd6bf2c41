// The README's first command, end to end: `npm run demo` (switchyard dev examples/text-pipeline
// --until-idle) with its storage, state and staging in a temp folder.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { killAll, requireBuild, ROOT, runCli, start, tempDir, waitFor } from './cli-helpers.js';

const T = { timeout: 30_000 };
const INPUTS = join(ROOT, 'examples', 'text-pipeline', 'inputs');

/** The items of the summary line `  {queue}   a, b` (sorted), or undefined without such a line. */
function sinkIds(stdout: string, queue: string): string[] | undefined {
  const line = stdout.split('\n').find((l) => l.trimStart().startsWith(`${queue} `));
  return line?.trim().slice(queue.length).trim().split(', ').sort();
}

async function leftIn(dir: string): Promise<string[]> {
  return existsSync(dir) ? readdir(dir) : [];
}

describe('switchyard dev examples/text-pipeline --until-idle (npm run demo)', () => {
  before(requireBuild);
  after(killAll);

  it('exits 0, prints the sinks and dead letters, and leaves the output objects on disk', T, async () => {
    const tmp = await tempDir();
    try {
      const storage = join(tmp.dir, 'storage');
      const staging = join(tmp.dir, 'staging');
      const r = await runCli(
        ['dev', 'examples/text-pipeline', '--until-idle', '--storage-dir', storage, '--state-dir', join(tmp.dir, 'state'), '--staging-dir', staging],
        { cwd: ROOT, timeoutMs: 25_000 },
      );
      const info = `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      assert.equal(r.code, 0, info);

      // The summary: what waits in the end queues, and the two dead letters.
      const summary = r.stdout.slice(r.stdout.indexOf('Results waiting in the end queues'));
      assert.ok(summary.length < r.stdout.length, info);
      assert.deepEqual(sinkIds(summary, 'empty-inputs'), ['3'], info);
      assert.deepEqual(sinkIds(summary, 'answered'), ['2', '5'], info);
      assert.deepEqual(sinkIds(summary, 'summaries-short'), ['1'], info);
      assert.deepEqual(sinkIds(summary, 'summaries-long'), ['4'], info);
      const dead = summary.split('\n').filter((l) => l.trimStart().startsWith('ingest-in.dead-letter'));
      assert.equal(dead.length, 2, info);
      assert.ok(dead.some((l) => l.includes('"not-a-number": SY_ERR_BAD_ID')), info);
      assert.ok(dead.some((l) => l.includes('"6": failed 3 time(s)') && l.includes('SY_ERR_OBJECT_NOT_FOUND')), info);
      // The flow lines show id 6 being retried before it was given up on.
      assert.match(r.stdout, /#6 attempt 1 failed: SY_ERR_OBJECT_NOT_FOUND.*\(retry in \d+ ms\)/, info);
      assert.match(r.stdout, /#6 dead-lettered \(max_attempts\) to ingest-in\.dead-letter/, info);

      // The objects on disk.
      const read = (bucket: string, key: string) => readFile(join(storage, bucket, key), 'utf8');
      for (const n of [1, 2, 3, 4, 5]) {
        assert.equal(await read('raw-texts', String(n)), await readFile(join(INPUTS, `${n}.txt`), 'utf8'), `raw-texts/${n}`);
      }
      const raw1 = await readFile(join(INPUTS, '1.txt'), 'utf8');
      assert.equal(await read('clean-texts', '1'), raw1.replace(/\s+/g, ' ').trim());
      assert.equal(await read('clean-texts', '3'), '');
      assert.ok((await read('answers', '2')).startsWith('Q: Does a crashed worker'));
      assert.ok((await read('answers', '5')).startsWith('Q: which queue does a question go to?'));
      const long = JSON.parse(await read('summaries', '4')) as { words: number; top: string[] };
      assert.ok(long.words > 20, `summaries/4: ${JSON.stringify(long)}`);
      assert.ok(Array.isArray(long.top) && long.top.length > 0);
      const short = JSON.parse(await read('summaries', '1')) as { words: number };
      assert.ok(short.words < 20, `summaries/1: ${JSON.stringify(short)}`);
      // Nothing was written for the messages that failed, nor for the empty text's next stages.
      assert.equal(existsSync(join(storage, 'clean-texts', '6')), false);
      assert.equal(existsSync(join(storage, 'answers', '3')), false);
      assert.deepEqual((await readdir(join(storage, 'answers'))).sort(), ['2', '5']);
      assert.deepEqual((await readdir(join(storage, 'summaries'))).sort(), ['1', '4']);

      // No staging left behind: the store's own .staging, nor the per-message folders.
      assert.deepEqual(await leftIn(join(storage, '.staging')), []);
      assert.deepEqual(await leftIn(staging), []);
    } finally {
      await tmp.remove();
    }
  });

  it('npm run demo -- --dashboard: the page holds the pipeline and its dead letters; a retried one flows once its input exists; Ctrl-C exits 0', { timeout: 60_000 }, async () => {
    const tmp = await tempDir();
    const storage = join(tmp.dir, 'storage');
    const demo = start(
      ['dev', 'examples/text-pipeline', '--until-idle', '--dashboard', '--dashboard-port', '0', '--storage-dir', storage, '--state-dir', join(tmp.dir, 'state'), '--staging-dir', join(tmp.dir, 'staging')],
      { cwd: ROOT },
    );
    const info = () => `exited: ${demo.hasExited()}\nstdout:\n${demo.stdout()}\nstderr:\n${demo.stderr()}`;
    try {
      const url = await waitFor(() => `the dashboard address\n${info()}`, () => /dashboard at (http:\/\/\S+)/.exec(demo.stdout())?.[1], 30_000);
      await waitFor(() => `the summary\n${info()}`, () => demo.stdout().includes('keeps running for the dashboard'), 30_000);
      const get = async (path: string) => (await fetch(`${url}${path}`)).json() as Promise<Record<string, unknown>>;

      const snapshot = await get('/api/snapshot') as { nodes: { id: string }[] };
      for (const service of ['ingest', 'classify', 'answer', 'summarize']) {
        assert.ok(snapshot.nodes.some((n) => n.id === `worker:${service}`), `no node for ${service}: ${JSON.stringify(snapshot.nodes.map((n) => n.id))}`);
      }
      const { letters } = await get('/api/dead-letters/memory/ingest-in?limit=10') as { letters: { id: string; preview: string }[] };
      assert.deepEqual(letters.map((l) => l.preview).sort(), ['6', 'not-a-number']);

      // The input 6 lacked, put as `switchyard put` would; then retry its dead letter from the page's API.
      await mkdir(join(storage, 'raw-texts'), { recursive: true });
      await writeFile(join(storage, 'raw-texts', '6'), 'Is a retried message handled like any other?');
      const six = letters.find((l) => l.preview === '6')!;
      const retry = await fetch(`${url}/api/dead-letters/memory/ingest-in/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: six.id }) });
      assert.equal(retry.status, 200, await retry.text());
      await waitFor(() => `answers/6\n${info()}`, () => existsSync(join(storage, 'answers', '6')), 15_000);

      demo.kill('SIGINT');
      assert.deepEqual(await demo.exited, { code: 0, signal: null }, info());
    } finally {
      demo.kill();
      await tmp.remove();
    }
  });
});
