// The memory transport lives inside one process, so `switchyard send` from another
// terminal cannot reach it directly. A process running on it opens this inbox on
// 127.0.0.1 and leaves its address in {stateDir}/inbox.json; `send` finds it there.
//
// Only the user who started the process may send through it: the record also holds a
// token made for this process, and the file is readable by its owner alone (mode 0600).
// A request without the token is refused (401), as is one that does not come from the
// loopback interface; the token check is what stops another local user or a web page
// (which can POST to 127.0.0.1 but cannot read the file).

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SwitchyardError, errors } from '../errors.js';
import { MemoryTransport } from '../transports/memory/mod.js';
import type { Transport } from '../transports/transport.js';

const INBOX_FILE = 'inbox.json';
const MAX_BODY = 16 * 1024 * 1024;
const TOKEN_HEADER = 'authorization';

export interface InboxOptions {
  /**
   * How long a send into a full queue waits for room before the inbox answers 503
   * (the memory transport's back-pressure, made visible to `switchyard send`). Default 30 s.
   */
  readonly fullWaitMs?: number;
}

export interface Inbox {
  readonly url: string;
  stop(): Promise<void>;
}

interface InboxRecord {
  readonly url: string;
  readonly pid: number;
  readonly token: string;
}

/** Serves POST /send/{queue} with {"bodies": ["42", ...]} into `transport`. */
export async function openInbox(transport: Transport, stateDir: string, options: InboxOptions = {}): Promise<Inbox> {
  const token = randomBytes(32).toString('base64url');
  const fullWaitMs = options.fullWaitMs ?? 30_000;
  const server = createServer((req, res) => {
    handle(transport, token, fullWaitMs, req, res).catch((err: Error) => reply(res, 500, { error: err.message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await mkdir(stateDir, { recursive: true });
  const file = join(stateDir, INBOX_FILE);
  // Written under another name with mode 0600, then renamed: the token is never readable
  // by others, not even for a moment, whatever an older file's mode was.
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify({ url, pid: process.pid, token } satisfies InboxRecord) + '\n', { mode: 0o600 });
  await chmod(temp, 0o600); // in case the file existed (writeFile keeps an existing file's mode)
  await rename(temp, file);
  return {
    url,
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
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
    headers: { 'content-type': 'application/json', [TOKEN_HEADER]: `Bearer ${record.token ?? ''}` },
    body: JSON.stringify({ bodies }),
  });
  const answer = (await res.json().catch(() => ({}))) as { sent?: number; error?: string };
  if (!res.ok) {
    const partly = answer.sent ? ` after taking ${answer.sent} of ${bodies.length}` : '';
    throw new errors.SY_ERR_USAGE(`the running process refused the messages${partly}: ${answer.error ?? `HTTP ${res.status}`}`);
  }
  return answer.sent ?? 0;
}

async function handle(transport: Transport, token: string, fullWaitMs: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!isLoopback(req.socket.remoteAddress)) return reply(res, 403, { error: 'the inbox takes requests from this machine only' });
  if (!hasToken(req.headers[TOKEN_HEADER], token)) {
    req.resume();
    return reply(res, 401, { error: `missing or wrong inbox token; send with \`switchyard send\` as the user who started the process, from the folder whose ${INBOX_FILE} it reads` });
  }
  const match = /^\/send\/([^/]+)$/.exec(req.url ?? '');
  if (req.method !== 'POST' || !match) return reply(res, 404, { error: 'use POST /send/{queue} with {"bodies": [...]}' });
  let queue: string;
  try {
    queue = decodeURIComponent(match[1]!);
  } catch {
    return reply(res, 400, { error: 'the queue name in the path is not valid percent-encoding' });
  }
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
  let sent = 0;
  try {
    for (const body of bodies as string[]) {
      const message = { body: Buffer.from(body, 'utf8') };
      // On the memory transport a full queue makes the send wait; the inbox waits a while,
      // then says so, rather than hold the sender (and its bodies) for ever.
      if (transport instanceof MemoryTransport) await transport.sendWithin(queue, message, fullWaitMs);
      else await transport.send(queue, message);
      sent++;
    }
  } catch (err) {
    const status = err instanceof SwitchyardError && err.code === 'SY_ERR_LIMIT_EXCEEDED' ? 503 : err instanceof SwitchyardError && err.kind !== 'runtime' ? 400 : 500;
    return reply(res, status, { error: (err as Error).message, sent });
  }
  reply(res, 200, { sent });
}

function hasToken(header: string | string[] | undefined, token: string): boolean {
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length), 'utf8');
  const expected = Buffer.from(token, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
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
