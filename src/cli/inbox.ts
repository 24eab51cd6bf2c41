// The memory transport lives inside one process, so `switchyard send` from another
// terminal cannot reach it directly. A process running on it opens this inbox on
// 127.0.0.1 and leaves its address in {stateDir}/inbox.json; `send` finds it there.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { errors } from '../errors.js';
import type { Transport } from '../transports/transport.js';

const INBOX_FILE = 'inbox.json';
const MAX_BODY = 16 * 1024 * 1024;

export interface Inbox {
  readonly url: string;
  stop(): Promise<void>;
}

interface InboxRecord {
  readonly url: string;
  readonly pid: number;
}

/** Serves POST /send/{queue} with {"bodies": ["42", ...]} into `transport`. */
export async function openInbox(transport: Transport, stateDir: string): Promise<Inbox> {
  const server = createServer((req, res) => {
    handle(transport, req, res).catch((err: Error) => reply(res, 500, { error: err.message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await mkdir(stateDir, { recursive: true });
  const file = join(stateDir, INBOX_FILE);
  await writeFile(file, JSON.stringify({ url, pid: process.pid } satisfies InboxRecord) + '\n');
  return {
    url,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Only remove the record if it is still ours (another process may have replaced it).
      const record = await readRecord(stateDir).catch(() => undefined);
      if (record?.pid === process.pid) await rm(file, { force: true });
    },
  };
}

/** Sends bodies to `queue` through the inbox of the process running in `stateDir`. */
export async function sendThroughInbox(stateDir: string, queue: string, bodies: readonly string[]): Promise<number> {
  const record = await readRecord(stateDir).catch(() => undefined);
  if (!record || !isAlive(record.pid)) {
    throw new errors.SY_ERR_USAGE(
      `no running Switchyard process on the memory transport was found in ${stateDir}; start \`switchyard dev <dir>\` or \`switchyard run <module>\` from this folder first (or pass --state-dir), or use a broker transport`,
    );
  }
  const res = await fetch(`${record.url}/send/${encodeURIComponent(queue)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ bodies }),
  });
  const answer = (await res.json()) as { sent?: number; error?: string };
  if (!res.ok) throw new errors.SY_ERR_USAGE(`the running process refused the messages: ${answer.error ?? res.status}`);
  return answer.sent ?? 0;
}

async function handle(transport: Transport, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const match = /^\/send\/([^/]+)$/.exec(req.url ?? '');
  if (req.method !== 'POST' || !match) return reply(res, 404, { error: 'use POST /send/{queue} with {"bodies": [...]}' });
  const queue = decodeURIComponent(match[1]!);
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return reply(res, 413, { error: `request larger than ${MAX_BODY} bytes` });
    chunks.push(chunk as Buffer);
  }
  let bodies: unknown;
  try {
    bodies = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { bodies?: unknown }).bodies;
  } catch {
    return reply(res, 400, { error: 'the request is not JSON' });
  }
  if (!Array.isArray(bodies) || !bodies.every((b) => typeof b === 'string')) {
    return reply(res, 400, { error: '"bodies" must be a list of strings' });
  }
  for (const body of bodies as string[]) await transport.send(queue, { body: Buffer.from(body, 'utf8') });
  reply(res, 200, { sent: bodies.length });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readRecord(stateDir: string): Promise<InboxRecord> {
  return JSON.parse(await readFile(join(stateDir, INBOX_FILE), 'utf8')) as InboxRecord;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
