// The calling side of RPC on Redis. For an API a server of ours serves (native-servers.ts)
// calls go in our own format (native-wire.ts): the calls of one tick to one API as one
// RPUSH of one list element, each with its deadline on Redis's clock. Otherwise, in
// Lightbus's (SPECS.md §5.2): RPUSH the blob onto "{api}:rpc_queue" and mark the call
// live with "rpc_expiry_key:{id}" for the timeout, so a server that picks it up late drops
// it (at most once). Results come back on one reply list per process, named in each
// call's return_path: Lightbus servers LPUSH to whatever key the return path names, so
// this is compatible, and one BLPOP loop serves every call in flight instead of one
// blocking connection per call. Our servers PUBLISH results on the channel of the same
// name instead (REPLY_KEY_PREFIX), which this client subscribes to: a result then costs
// the caller no command at all (a list pop is a write per result). A result that reaches
// no subscriber (PUBLISH answers 0: this client is reconnecting) goes to the list; one
// Redis counts as delivered to a connection that then dies is lost, and its call times
// out, as at-most-once RPC allows.

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { errors } from '../../../errors.js';
import type { Logger } from '../../../observability/logger.js';
import { warnLimiter, type WarnLimiter } from '../../../observability/warn-limiter.js';
import { decodeResultBlob, encodeRpcBlob } from '../../../protocols/lightbus/blob.js';
import type { CallOptions, RpcCall, RpcResult } from '../../bus/bus-transport.js';
import { isClosedError, signal, sleep, unlessStopped, type RedisConnections } from '../connection.js';
import { callWriter, nativeCallWriter, type CallWrite, type NativeCallWrite } from './rpc-writes.js';
import type { Batcher } from '../batcher.js';
import { decodeResultLine, encodeCallLine, isResultLine } from '../../../protocols/lightbus/native-wire.js';
import { NativeServers } from './native-servers.js';
import { RedisClock } from './redis-clock.js';
import { REPLY_KEY_PREFIX, RETURN_PATH_PREFIX, rpcExpiryKey, rpcQueueKey } from '../../../protocols/lightbus/names.js';

interface Pending {
  resolve(result: RpcResult): void;
  reject(error: Error): void;
  readonly deadline: number;
  readonly call: RpcCall;
  readonly timeoutMs: number;
}

/** How often calls past their deadline are failed: timeouts are this much late at most. */
const SWEEP_MS = 20;

export class RpcClient {
  private readonly replyKey = `${REPLY_KEY_PREFIX}${randomUUID()}`;
  private readonly returnPath = RETURN_PATH_PREFIX + this.replyKey;
  private readonly pending = new Map<string, Pending>();
  private reader: Redis | undefined;
  private subscriber: Redis | undefined;
  /** Settles once the reply channel is subscribed (or could not be: the list still works). */
  private subscribed: Promise<void> | undefined;
  private isSubscribed = false;
  private writerConnection: Redis | undefined;
  private batcher: Batcher<CallWrite> | undefined;
  private nativeBatcher: Batcher<NativeCallWrite> | undefined;
  /** Redis's clock and which APIs our servers serve, once measured (see ready()). */
  private clock: RedisClock | undefined;
  private servers: NativeServers | undefined;
  private serversReady: Promise<NativeServers> | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  /** Resolved by close(): the blocking read of results ends at once, Redis up or not. */
  private readonly stopped = signal();
  private sweeper: NodeJS.Timeout | undefined;
  /** What other processes send is logged at most a few lines per kind per window. */
  private readonly warn: WarnLimiter;

  private sweep(): void {
    const now = Date.now();
    for (const [id, p] of this.pending) {
      if (p.deadline > now) continue;
      this.pending.delete(id);
      p.reject(new errors.SY_ERR_REQUEST_TIMEOUT(`RPC ${p.call.api}.${p.call.procedure}()`, p.timeoutMs));
    }
    if (this.pending.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  constructor(
    private readonly connections: RedisConnections,
    private readonly logger: Logger,
    /** Life of a Lightbus-format call's expiry key; default: its caller's timeout. */
    private readonly expiryS?: number,
  ) {
    this.warn = warnLimiter(logger);
  }

  call(call: RpcCall, options: CallOptions): Promise<RpcResult> {
    if (this.stopping) return Promise.reject(new errors.SY_ERR_TRANSPORT_CLOSED('redis', `call ${call.api}.${call.procedure}()`));
    this.ensureReader();
    // The deadline runs from now, also while the first calls wait for the subscription
    // (so that their results come on the channel rather than by the list).
    const result = new Promise<RpcResult>((resolve, reject) => {
      this.pending.set(call.id, { resolve, reject, deadline: Date.now() + options.timeoutMs, call, timeoutMs: options.timeoutMs });
      // One sweep timer for every call in flight instead of a timer per call.
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS);
    });
    const native = this.isSubscribed ? this.servers?.peek(call.api) : undefined;
    if (native === undefined) {
      void this.ready(call.api).then(
        (n) => this.send(call, n),
        () => undefined, // closed meanwhile; the call was failed by close()
      );
    } else this.send(call, native);
    return result;
  }

  /**
   * Whether calls to `api` go in our format, once this client can send them: the reply
   * channel subscribed (so results come there rather than by the list), Redis's clock
   * measured, and the API's servers asked about.
   */
  private async ready(api: string): Promise<boolean> {
    await this.subscribed;
    // Closed meanwhile: open nothing more (a connection opened now would never be closed).
    if (this.stopping) throw new errors.SY_ERR_TRANSPORT_CLOSED('redis', `call ${api}`);
    this.serversReady ??= (async () => {
      this.clock = await RedisClock.of(this.writer());
      if (this.stopping) this.clock.stop();
      return (this.servers = new NativeServers(this.writer(), this.clock));
    })().catch((error: unknown) => {
      this.serversReady = undefined; // the next call asks again
      throw error;
    });
    return (await this.serversReady).lookup(api);
  }

  /** Writes a registered call, unless its caller gave up or the client closed meanwhile. */
  private send(call: RpcCall, native: boolean): void {
    const p = this.stopping ? undefined : this.pending.get(call.id);
    if (!p) return;
    const done = (error?: Error) => {
      const failed = error && this.pending.get(call.id);
      if (!failed) return;
      this.pending.delete(call.id);
      failed.reject(new errors.SY_ERR_BROKER(`Redis at ${this.connections.where}`, `the call ${call.api}.${call.procedure}() was not confirmed (${error.message}); it may or may not run: call again if that is safe`));
    };
    if (native) {
      this.nativeBatcher ??= nativeCallWriter(this.writer(), this.replyKey);
      this.nativeBatcher.add({ api: call.api, line: encodeCallLine(call, this.clock!.toRedis(p.deadline)) }, done);
      // The only call in flight goes now: nothing else is coming to share its write (a
      // result arriving is what makes callers call again), and waiting for the end of the
      // tick costs a lone caller latency.
      if (this.pending.size === 1) this.nativeBatcher.flush();
      return;
    }
    // One script: the expiry key exists before the call is queued (SPECS.md §5.2's SET,
    // EXPIRE and RPUSH in one command); calls made in the same tick share one.
    this.batcher ??= callWriter(this.writer());
    const write: CallWrite = {
      queue: rpcQueueKey(call.api),
      expiryKey: rpcExpiryKey(call.id),
      ttlS: Math.max(1, Math.ceil(this.expiryS ?? p.timeoutMs / 1000)),
      blob: encodeRpcBlob(call, this.returnPath),
    };
    this.batcher.add(write, done);
  }

  /** Calls go out on a connection of their own, without auto-pipelining (see batcher.ts). */
  private writer(): Redis {
    // At most once: a call written but not confirmed before a disconnect is not sent
    // again on reconnect (it may have been queued already); its caller gets the timeout.
    this.writerConnection ??= this.connections.create('rpc-calls', 'direct', { maxRetriesPerRequest: null, autoResendUnfulfilledCommands: false });
    return this.writerConnection;
  }

  private ensureReader(): void {
    if (this.loop || this.stopping) return;
    this.reader = this.connections.create('rpc-replies', 'blocking');
    this.loop = this.read(this.reader);
    const subscriber = (this.subscriber = this.connections.create('rpc-reply-channel', 'subscriber'));
    // One message holds the results of one burst for this process, one per line.
    subscriber.on('message', (_channel: string, joined: string) => {
      if (joined.indexOf('\n') < 0) this.settle(joined);
      else for (const raw of joined.split('\n')) this.settle(raw);
    });
    this.subscribed = subscriber.subscribe(this.replyKey).then(
      () => void (this.isSubscribed = true),
      (error: Error) => {
        if (this.stopping || isClosedError(error)) return;
        this.logger.warn({ err: error.message }, 'subscribing to the RPC reply channel failed; results come by the reply list');
      },
    );
  }

  private async read(reader: Redis): Promise<void> {
    while (!this.stopping) {
      try {
        // Every result waiting, in one blocking read (Redis ≥ 7.0; BLPOP before).
        for (const raw of (await unlessStopped(this.pop(reader), this.stopped)) ?? []) this.settle(raw);
      } catch (error) {
        if (this.stopping || isClosedError(error)) return;
        this.logger.warn({ err: (error as Error).message }, 'reading RPC results failed; retrying');
        await sleep(200);
      }
    }
  }

  private multiPop = true;

  private async pop(reader: Redis): Promise<string[]> {
    if (this.multiPop) {
      try {
        const got = (await reader.blmpop(0, 1, this.replyKey, 'LEFT', 'COUNT', 256)) as [string, string[]] | null;
        return got ? got[1] : [];
      } catch (error) {
        if (!/unknown command/i.test((error as Error).message)) throw error;
        this.multiPop = false;
      }
    }
    const popped = await reader.blpop(this.replyKey, 0);
    return popped ? [popped[1]] : [];
  }

  private settle(raw: string): void {
    let result: RpcResult;
    try {
      result = isResultLine(raw) ? decodeResultLine(raw) : decodeResultBlob(raw);
    } catch (error) {
      this.warn.warn('unreadable result', { reason: (error as Error).message }, 'an RPC result could not be read; dropped');
      return;
    }
    const p = this.pending.get(result.rpcId);
    if (!p) return; // its caller gave up (timeout)
    this.pending.delete(result.rpcId);
    p.resolve(result);
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.stopped.resolve();
    clearInterval(this.sweeper);
    this.clock?.stop();
    for (const [id, p] of this.pending) p.reject(new errors.SY_ERR_TRANSPORT_CLOSED('redis', `wait for the result of call ${id}`));
    this.pending.clear();
    this.reader?.disconnect();
    this.subscriber?.disconnect();
    this.writerConnection?.disconnect();
    await this.loop;
    this.warn.flush();
  }
}
