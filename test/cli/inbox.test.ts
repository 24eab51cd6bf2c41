// The local inbox of `switchyard send` (issue 17, design choice): loopback only, and only
// for whoever can read the inbox record, which holds a per-process token and is mode 0600.
// And it answers a full memory queue with a refusal instead of holding the sender for ever.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openInbox, sendThroughInbox, type Inbox } from '../../src/cli/inbox.js';
import { MemoryTransport } from '../../src/transports/memory/mod.js';

const T = { timeout: 10_000 };

describe('the local inbox', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sy-inbox-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function withInbox<R>(name: string, fn: (ctx: { transport: MemoryTransport; inbox: Inbox; state: string }) => Promise<R>, options: { maxLength?: number; fullWaitMs?: number } = {}): Promise<R> {
    const state = join(dir, name);
    const transport = new MemoryTransport({ ...(options.maxLength ? { maxLength: options.maxLength } : {}) });
    await transport.start();
    const inbox = await openInbox(transport, state, { ...(options.fullWaitMs ? { fullWaitMs: options.fullWaitMs } : {}) });
    try {
      return await fn({ transport, inbox, state });
    } finally {
      await inbox.stop();
      await transport.close();
    }
  }

  it('writes its record with a per-process token, readable by its owner only (0600)', T, async () => {
    await withInbox('record', async ({ state, inbox }) => {
      const file = join(state, 'inbox.json');
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      const record = JSON.parse(await readFile(file, 'utf8')) as { url: string; pid: number; token?: string };
      assert.equal(record.url, inbox.url);
      assert.match(record.token ?? '', /^[A-Za-z0-9_-]{40,}$/);
      assert.match(inbox.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    });
  });

  it('an older record file readable by others is replaced with a 0600 one', T, async () => {
    const state = join(dir, 'old-mode');
    await rm(state, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(state, { recursive: true }));
    await writeFile(join(state, 'inbox.json'), '{}', { mode: 0o644 });
    await withInbox('old-mode', async () => {
      assert.equal((await stat(join(state, 'inbox.json'))).mode & 0o777, 0o600);
    });
  });

  it('refuses a request without the token, or with another one; nothing is queued', T, async () => {
    await withInbox('auth', async ({ transport, inbox }) => {
      const post = (headers: Record<string, string>) => fetch(`${inbox.url}/send/q`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ bodies: ['1'] }),
      });
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'Basic abc' }] as Array<Record<string, string>>) {
        const res = await post(headers);
        assert.equal(res.status, 401, JSON.stringify(headers));
        assert.match(((await res.json()) as { error: string }).error, /missing or wrong inbox token/);
      }
      assert.equal(transport.depth('q'), 0);
      assert.equal(await sendThroughInbox(join(dir, 'auth'), 'q', ['1', '2']), 2, 'with the token from the record it works');
      assert.equal(transport.depth('q'), 2);
    });
  });

  it('a full memory queue: the inbox waits a while, then refuses the rest, saying how many it took', T, async () => {
    await withInbox('full', async ({ transport, state }) => {
      await assert.rejects(sendThroughInbox(state, 'f', ['1', '2', '3', '4']), (err: Error) => {
        assert.match(err.message, /after taking 3 of 4/);
        assert.match(err.message, /queue "f" is full/);
        return true;
      });
      assert.equal(transport.depth('f'), 3);
    }, { maxLength: 3, fullWaitMs: 50 });
  });
});
