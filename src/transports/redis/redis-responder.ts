// The serving side of request/reply over Redis lists (the protocol: redis-rpc.ts).

import type { Redis } from 'ioredis';
import type { Logger } from '../../observability/logger.js';
import { settleWithin } from '../grace.js';
import type { OutboundMessage, RequestHandler, Subscription } from '../transport.js';
import { decodeFrame, encodeFrame, stringHeaders } from './entry.js';
import { REDIS_HEADERS } from './names.js';
import { REPLY_SLACK_MS, type RpcHost } from './redis-rpc.js';
import { STOP_GRACE_MS, sleep, unlessStopped, unrefSleep } from './connection.js';

/**
 * A responder skips a request sent longer ago than its timeout plus this: its requester
 * gave up. Generous, because the two clocks are different machines' clocks.
 */
const STALE_SLACK_MS = 5_000;

/** One responder: a blocking connection taking requests, handlers run up to `concurrency` at once. */
export class Responder implements Subscription {
  private reader: Redis | undefined;
  private readerId: number | undefined;
  private readerIdStale = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly running = new Set<Promise<void>>();
  private roomWaiter: (() => void) | undefined;
  private readonly log: Logger;

  constructor(
    private readonly host: RpcHost,
    private readonly subject: string,
    private readonly handler: RequestHandler,
    private readonly concurrency: number,
  ) {
    this.log = host.log.child({ subject });
  }

  async start(): Promise<void> {
    const reader = await this.host.openReader(`responder of ${this.subject}`);
    this.reader = reader;
    reader.client('ID').then((id) => (this.readerId = Number(id)), () => (this.readerIdStale = true));
    let lost = false;
    reader.on('close', () => (lost = true));
    reader.on('ready', () => {
      if (lost) this.readerIdStale = true;
      lost = false;
    });
    this.loopDone = this.loop();
  }

  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      this.roomWaiter?.();
      let done = false;
      const loop = this.loopDone.then(() => (done = true));
      const grace = unrefSleep(STOP_GRACE_MS);
      let late = false;
      void grace.then(() => (late = true));
      // A reader that is not connected has nothing blocked on Redis to end: closed at once.
      while (!done && !late && this.reader?.status === 'ready') {
        if (this.readerId !== undefined) void this.host.commands.client('UNBLOCK', this.readerId, 'TIMEOUT').catch(() => undefined);
        await Promise.race([loop, sleep(25)]);
      }
      if (!done) this.reader?.disconnect();
      // A pop queued on a connection that was reconnecting never settles once it is
      // disconnected (ioredis keeps it queued): the loop is left behind, it does nothing more.
      await unlessStopped(loop, grace);
      // Requests already taken are answered (within the grace period); none are put back:
      // their requesters wait only so long, and a late answer is worth less than none.
      await settleWithin(this.running, options.graceMs);
      this.reader?.disconnect();
    })();
    return this.stopping;
  }

  private async loop(): Promise<void> {
    const list = this.host.names.requestList(this.subject);
    let failing = false;
    while (!this.stopped) {
      const free = this.concurrency - this.running.size;
      if (free <= 0) {
        await new Promise<void>((r) => (this.roomWaiter = r));
        continue;
      }
      try {
        if (this.readerIdStale) {
          this.readerIdStale = false;
          this.readerId = Number(await this.reader!.client('ID'));
        }
        if (this.stopped) break;
        const popped = (await this.reader!.callBuffer('BLMPOP', this.host.blockMs / 1000, 1, list, 'LEFT', 'COUNT', free)) as [Buffer, Buffer[]] | null;
        if (failing) {
          failing = false;
          this.log.info('serving again');
        }
        if (popped) for (const frame of popped[1]) this.answer(frame);
      } catch (err) {
        if (this.stopped) break;
        if (this.reader!.status === 'end') break; // closed for good: the transport closed under us
        if (!failing) this.log.warn({ err: (err as Error).message }, 'taking requests from Redis failed; trying again once it is reachable');
        failing = true;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private answer(frame: Buffer): void {
    const decoded = decodeFrame(frame);
    const { r: replyKey, t: timeoutMs = 0, s: sentAt = 0 } = decoded?.head ?? {};
    if (!decoded || !replyKey) {
      this.log.warn('dropped a request that is not a Switchyard frame');
      return;
    }
    // Its requester stopped waiting already: answering would only leave garbage behind.
    if (timeoutMs > 0 && sentAt > 0 && Date.now() - sentAt > timeoutMs + STALE_SLACK_MS) return;
    const run: Promise<void> = (async () => {
      let reply: OutboundMessage;
      try {
        reply = await this.handler({ body: decoded.body, headers: stringHeaders(decoded.head.h) });
      } catch (err) {
        reply = { body: Buffer.alloc(0), headers: { [REDIS_HEADERS.error]: (err as Error)?.message ?? String(err) } };
      }
      const ttl = Math.max(timeoutMs, 1) + REPLY_SLACK_MS;
      const frame = encodeFrame(reply.headers ? { h: reply.headers } : {}, reply.body);
      await this.host.pushes.write({ list: replyKey, frame, ttlMs: ttl });
    })()
      .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'could not send a reply; its requester times out'))
      .finally(() => {
        this.running.delete(run);
        const wake = this.roomWaiter;
        this.roomWaiter = undefined;
        wake?.();
      });
    this.running.add(run);
  }
}
