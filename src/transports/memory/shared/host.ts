// The host side of the shared embedded broker: the first local process (usually
// `switchyard dev` or `run`) keeps its MemoryTransport and serves it on a unix socket in
// the state folder; other local processes attach (client.ts) and use the same queues,
// topics and responders. A connection that goes away is treated as a broker treats a
// closed channel: its subscriptions stop and their unsettled deliveries go back to their
// queues, flagged redelivered; its responders stop serving.

import { chmod, mkdir, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Delivery, Subscription } from '../../transport.js';
import type { DeadLetter } from '../../dead-letters.js';
import { MemoryDeadLetters } from '../memory-dead-letters.js';
import type { MemoryTransport } from '../memory-transport.js';
import { encodeFrame, MAX_PEEK, MAX_PEEK_BYTES, onFrames, type ClientOp, type HostOp } from './protocol.js';

export interface BrokerHost {
  readonly socketPath: string;
  /** Connections attached now. */
  readonly attached: number;
  close(): Promise<void>;
}

class Session {
  readonly #subs = new Map<number, Subscription>();
  readonly #deliveries = new Map<number, Delivery>();
  readonly #pendingReplies = new Map<number, { resolve(v: { body: Uint8Array; headers: Record<string, string> }): void; reject(e: Error): void }>();
  #nextDelivery = 1;
  #nextReq = 1;
  #closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly transport: MemoryTransport,
    private readonly deadLetters: MemoryDeadLetters,
  ) {}

  send(message: HostOp): void {
    if (!this.#closed) this.socket.write(encodeFrame(message));
  }

  async handle(m: ClientOp): Promise<void> {
    const t = this.transport;
    const ok = (id: number, extra: Partial<Extract<HostOp, { op: 'ok' }>> = {}) => this.send({ op: 'ok', id, ...extra });
    const id = 'id' in m ? m.id : 0;
    try {
      switch (m.op) {
        case 'declare':
          await t.declareQueue(m.queue);
          return ok(id);
        case 'send':
          await t.send(m.queue, { body: m.body, headers: m.headers ?? {} });
          return ok(id);
        case 'publish':
          await t.publish(m.topic, { body: m.body, headers: m.headers ?? {} });
          return ok(id);
        case 'consume':
        case 'subscribe': {
          const handler = (delivery: Delivery) => {
            const key = this.#nextDelivery++;
            this.#deliveries.set(key, delivery);
            this.send({ op: 'deliver', sub: m.sub, delivery: key, body: delivery.body, headers: delivery.headers, queue: delivery.queue, attempt: delivery.attempt });
          };
          const sub = m.op === 'consume'
            ? await t.consume(m.queue, handler, { prefetch: m.prefetch })
            : await t.subscribe(m.topic, m.group, handler, { prefetch: m.prefetch });
          this.#subs.set(m.sub, sub);
          return ok(id);
        }
        case 'unsubscribe': {
          const sub = this.#subs.get(m.sub);
          this.#subs.delete(m.sub);
          await sub?.stop({ graceMs: 0 });
          return ok(id);
        }
        case 'settle': {
          const delivery = this.#deliveries.get(m.delivery);
          if (!delivery) return;
          this.#deliveries.delete(m.delivery);
          if (m.how === 'ack') await delivery.ack();
          else if (m.how === 'requeue') await delivery.nack({ requeue: true, ...(m.delayMs ? { delayMs: m.delayMs } : {}) });
          else await delivery.nack({ requeue: false, reason: m.reason ?? 'dead-lettered' });
          return;
        }
        case 'request': {
          const reply = await t.request(m.subject, { body: m.body, headers: m.headers ?? {} }, { timeoutMs: m.timeoutMs });
          return ok(id, { body: reply.body, headers: { ...reply.headers } });
        }
        case 'serve': {
          const sub = await t.serve(m.subject, (request) =>
            new Promise((resolve, reject) => {
              const req = this.#nextReq++;
              this.#pendingReplies.set(req, { resolve, reject });
              this.send({ op: 'serve-request', sub: m.sub, req, body: request.body, headers: request.headers });
            }),
          );
          this.#subs.set(m.sub, sub);
          return ok(id);
        }
        case 'reply': {
          const pending = this.#pendingReplies.get(m.req);
          this.#pendingReplies.delete(m.req);
          if (!pending) return;
          if (m.error !== undefined) pending.reject(new Error(m.error));
          else pending.resolve({ body: m.body ?? new Uint8Array(), headers: m.headers ?? {} });
          return;
        }
        case 'queues':
          return ok(id, { queues: t.queueNames().map((name) => ({ name, depth: t.depth(name), consumers: t.consumers(name) })) });
        case 'dead-queues':
          return ok(id, { deadQueues: await this.deadLetters.queues() });
        case 'dead-peek': {
          const limit = Math.min(Number.isInteger(m.limit) && m.limit > 0 ? m.limit : 100, MAX_PEEK);
          return ok(id, { letters: withinBytes(await this.deadLetters.peek(m.queue, { limit }), MAX_PEEK_BYTES) });
        }
        case 'dead-act': {
          const d = this.deadLetters;
          const count = m.target === null || m.target === undefined
            ? await (m.action === 'retry' ? d.retryAll(m.queue) : d.discardAll(m.queue))
            : Number(await (m.action === 'retry' ? d.retry(m.queue, String(m.target)) : d.discard(m.queue, String(m.target))));
          return ok(id, { count });
        }
        default:
          throw new Error(`unknown operation ${JSON.stringify((m as { op?: unknown }).op)}`);
      }
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      this.send({ op: 'error', id, ...(typeof code === 'string' ? { code } : {}), message: (err as Error).message ?? String(err) });
    }
  }

  /** The connection is gone: hand back what it held, as a broker does. */
  async end(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pendingReplies.values()) p.reject(new Error('the process serving this request went away'));
    this.#pendingReplies.clear();
    const subs = [...this.#subs.values()];
    this.#subs.clear();
    await Promise.allSettled(subs.map((s) => s.stop({ graceMs: 0 })));
    this.#deliveries.clear();
  }
}

/** The first letters whose bodies fit in `maxBytes` (the first always goes: it fit the queue). */
function withinBytes(letters: DeadLetter[], maxBytes: number): DeadLetter[] {
  let bytes = 0;
  const out: DeadLetter[] = [];
  for (const letter of letters) {
    bytes += letter.body.byteLength;
    if (out.length > 0 && bytes > maxBytes) break;
    out.push(letter);
  }
  return out;
}

/**
 * Serves `transport` at `socketPath` (its folder made 0700, the socket 0600). Fails with
 * EADDRINUSE when another process hosts there already (attach to it instead).
 */
export async function hostBroker(transport: MemoryTransport, socketPath: string): Promise<BrokerHost> {
  await mkdir(dirname(socketPath), { recursive: true, mode: 0o700 });
  const sessions = new Set<Session>();
  const deadLetters = new MemoryDeadLetters(transport);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    const session = new Session(socket, transport, deadLetters);
    sessions.add(session);
    sockets.add(socket);
    onFrames(socket, (m) => {
      if (m && typeof m === 'object' && typeof (m as { op?: unknown }).op === 'string') void session.handle(m as ClientOp);
      else socket.destroy();
    });
    const gone = () => {
      sessions.delete(session);
      sockets.delete(socket);
      void session.end();
    };
    socket.on('close', gone);
    socket.on('error', () => socket.destroy());
  });
  // Created 0600 from the start (umask), then made sure of with chmod.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(umask);
  }
  await chmod(socketPath, 0o600);
  return {
    socketPath,
    get attached() {
      return sessions.size;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...sessions].map((s) => s.end()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await unlink(socketPath).catch(() => undefined);
    },
  };
}
