// Request/reply over Redis lists: the requesting side (responders: redis-responder.ts).
//
// A request is RPUSHed to {prefix}rpc:{subject} as one frame (entry.ts) naming a reply key
// of its own; the requester waits on that key with BLPOP. Responders wait on the request
// list with BLMPOP (several at once, up to their free handler slots); Redis hands each
// request to one of them, the one waiting longest first, so responders share. The reply is
// RPUSHed to the reply key, which expires soon after, so a reply nobody waits for any more
// does not stay. The request list itself expires when no responder takes from it for as
// long as the longest waiting request's timeout (PEXPIRE NX, then GT), so requests to
// nobody do not pile up either.
//
// Each waiting request needs a blocking connection: they come from a pool that keeps a
// few idle ones for the next requests, at most maxWaitingRequests of them at once.

import type { Redis } from 'ioredis';
import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { OutboundMessage, Reply, RequestOptions } from '../transport.js';
import { decodeFrame, encodeFrame, stringHeaders } from './entry.js';
import type { Batcher } from './batcher.js';
import { REDIS_HEADERS, type RedisNames } from './names.js';

export interface RpcHost {
  readonly commands: Redis;
  /** Request and reply pushes of one burst, in one pipeline. */
  readonly pushes: Batcher<ListPush>;
  openReader(purpose: string): Promise<Redis>;
  readonly names: RedisNames;
  readonly log: Logger;
  readonly blockMs: number;
  /** Requests waiting for their reply at once (each holds a connection); more wait their turn, within their timeout. */
  readonly maxWaitingRequests: number;
}

/** What the timer of a call needs to know: the connection blocked on its reply, if any. */
interface Call {
  blocked: Redis | undefined;
}

/** One push of a request or reply frame: RPUSH, and the list expires no sooner than ttlMs from now (scripts.ts syPush). */
export interface ListPush {
  readonly list: string;
  readonly frame: Buffer;
  readonly ttlMs: number;
}

/** Idle blocking connections kept for later requests. */
const POOL_IDLE = 16;
/** Extra life of a reply key past the request's timeout. */
export const REPLY_SLACK_MS = 1_000;

export class Requester {
  private readonly idle: Redis[] = [];
  private readonly busy = new Set<Redis>();
  private readonly queued: Array<(connection: Redis | undefined) => void> = [];
  private opening = 0;
  private closed = false;

  constructor(private readonly host: RpcHost) {}

  /**
   * Bounded by timeoutMs as a whole, even while Redis is unreachable (commands would wait
   * out their retries): one timer per call, which also drops a connection still blocked.
   */
  async request(subject: string, message: OutboundMessage, options: RequestOptions): Promise<Reply> {
    const timeoutMs = Math.ceil(options.timeoutMs);
    const call: Call = { blocked: undefined };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (call.blocked) this.drop(call.blocked); // still blocked: it cannot go back to the pool
        reject(new errors.SY_ERR_REQUEST_TIMEOUT(subject, timeoutMs));
      }, timeoutMs + 250);
    });
    try {
      return await Promise.race([this.exchange(subject, message, options.headers, timeoutMs, call), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async exchange(subject: string, message: OutboundMessage, extraHeaders: RequestOptions['headers'], timeoutMs: number, call: Call): Promise<Reply> {
    const { names } = this.host;
    const started = Date.now();
    const list = names.requestList(subject);
    const replyKey = names.replyList();
    const headers = extraHeaders ? { ...message.headers, ...extraHeaders } : message.headers;
    const frame = encodeFrame({ h: headers, r: replyKey, t: timeoutMs, s: started }, message.body);
    const connection = await this.acquire();
    try {
      const left = timeoutMs - (Date.now() - started);
      if (left <= 0) throw new errors.SY_ERR_REQUEST_TIMEOUT(subject, timeoutMs);
      // Wait for the reply while the request goes out: the reply cannot come first, and
      // this saves a round trip. If the request cannot be sent, that wait is cut short.
      call.blocked = connection;
      const reply = connection.blpopBuffer(replyKey, left / 1000);
      reply.catch(() => undefined); // awaited below; meanwhile its failure is not unhandled
      try {
        await this.host.pushes.write({ list, frame, ttlMs: timeoutMs });
      } catch (err) {
        this.drop(connection);
        throw new errors.SY_ERR_BROKER(`request to "${subject}"`, `could not send it (${(err as Error).message}); check that Redis is reachable`);
      }
      let popped: [Buffer, Buffer] | null;
      try {
        popped = await reply;
      } catch (err) {
        throw new errors.SY_ERR_BROKER(`request to "${subject}"`, `waiting for the reply failed (${(err as Error).message})`);
      }
      call.blocked = undefined;
      if (!popped) throw new errors.SY_ERR_REQUEST_TIMEOUT(subject, timeoutMs);
      const decoded = decodeFrame(popped[1]);
      if (!decoded) throw new errors.SY_ERR_BROKER(`request to "${subject}"`, 'the reply was not a Switchyard frame');
      const replyHeaders = stringHeaders(decoded.head.h);
      const failure = replyHeaders[REDIS_HEADERS.error];
      if (failure !== undefined) throw new errors.SY_ERR_REMOTE(subject, failure);
      return { body: decoded.body, headers: replyHeaders };
    } finally {
      call.blocked = undefined;
      this.release(connection);
    }
  }

  private async acquire(): Promise<Redis> {
    if (this.closed) throw new errors.SY_ERR_TRANSPORT_CLOSED('redis', 'request');
    let connection = this.idle.pop();
    if (!connection && this.busy.size + this.opening >= this.host.maxWaitingRequests) {
      connection = await new Promise<Redis | undefined>((resolve) => this.queued.push(resolve));
      if (!connection && this.closed) throw new errors.SY_ERR_TRANSPORT_CLOSED('redis', 'request');
      if (!connection) throw new errors.SY_ERR_BROKER('request', 'no connection to wait for the reply on could be opened; check that Redis is reachable');
    }
    if (!connection) {
      this.opening++;
      try {
        connection = await this.host.openReader('request replies');
      } finally {
        this.opening--;
      }
    }
    this.busy.add(connection);
    return connection;
  }

  private release(connection: Redis): void {
    if (!this.busy.delete(connection)) return;
    const usable = !this.closed && connection.status === 'ready';
    if (usable && this.queued.length > 0) return this.queued.shift()!(connection);
    if (!usable || this.idle.length >= POOL_IDLE) connection.disconnect();
    else this.idle.push(connection);
    this.openForQueued();
  }

  /** A connection still blocked (or broken) cannot be pooled: close it, and free its slot. */
  private drop(connection: Redis): void {
    if (!this.busy.delete(connection)) return;
    connection.disconnect();
    this.openForQueued();
  }

  /** A slot freed without a connection to pass on: open one for the first request waiting. */
  private openForQueued(): void {
    const next = this.queued.shift();
    if (!next) return;
    if (this.closed) return next(undefined);
    this.opening++;
    this.host.openReader('request replies').then(
      (connection) => { this.opening--; next(connection); },
      () => { this.opening--; next(undefined); },
    );
  }

  close(): void {
    this.closed = true;
    for (const waiter of this.queued.splice(0)) waiter(undefined);
    for (const c of [...this.idle, ...this.busy]) c.disconnect();
    this.idle.length = 0;
    this.busy.clear();
  }
}
