// bench/_peers.ts: whatever way a peer benchmark ends — an uncaught error, SIGTERM or
// SIGINT, process.exit — every peer it started is killed by its process group (grandchildren
// too) and its temp folders are removed, so no Lightbus, Python or Go process and no socket
// folder outlives a benchmark run.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./fixtures/peer-exit.ts', import.meta.url));

/** True while the process exists and is not a zombie (a zombie is dead, just not reaped). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function runFixture(how: 'throw' | 'signal' | 'exit', signal?: NodeJS.Signals): Promise<{ grandchild: number; folder: string; code: number | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, how], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const first = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`fixture exited (${code}) before printing`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    const [pid, folder] = (await first).split(' ');
    if (signal) child.kill(signal);
    const code = await exited;
    return { grandchild: Number(pid), folder: folder!, code };
  } finally {
    clearTimeout(timer);
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !alive(pid);
}

describe('bench/_peers.ts cleans up however a benchmark ends', { timeout: 60_000 }, () => {
  for (const [how, signal] of [['throw'], ['exit'], ['signal', 'SIGTERM'], ['signal', 'SIGINT']] as const) {
    it(`${how}${signal ? ` (${signal})` : ''}: the peer's whole process group is killed and the temp folder removed`, async () => {
      const { grandchild, folder, code } = await runFixture(how, signal);
      try {
        assert.notEqual(code, 0, 'the fixture was meant to fail');
        assert.ok(await gone(grandchild), `the peer's grandchild ${grandchild} outlived the benchmark`);
        assert.equal(existsSync(folder), false, `${folder} was left behind`);
      } finally {
        if (alive(grandchild)) process.kill(grandchild, 'SIGKILL');
        rmSync(folder, { recursive: true, force: true });
      }
    });
  }
});
