// The calling side of Lightbus RPC on Redis (SPECS.md §5.2): RPUSH the blob onto
// "{api}:rpc_queue" and mark the call live with "rpc_expiry_key:{id}" for the timeout, so
// a server that picks it up late drops it (at most once). Results come back on one reply
// list per process, named in each call's return_path: Lightbus servers LPUSH to whatever
// key the return path names, so this is compatible, and one BLPOP loop serves every call
// in flight instead of one blocking connection per call.

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { errors } from '../../../errors.js';
import type { Logger } from '../../../observability/logger.js';
import { decodeResultBlob, encodeRpcBlob } from '../../bus/blob.js';
import type { CallOptions, RpcCall, RpcResult } from '../../bus/bus-transport.js';
import { isClosedError, openRedis, sleep } from './connections.js';
import { RETURN_PATH_PREFIX, rpcExpiryKey, rpcQueueKey } from './names.js';

interface Pending {
  resolve(result: RpcResult): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class RpcClient {
  private readonly replyKey = `switchyard:reply:${randomUUID()}`;
  private readonly pending = new Map<string, Pending>();
  private reader: Redis | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly url: string,
    private readonly commands: Redis,
    private readonly logger: Logger,
  ) {}

  async call(call: RpcCall, options: CallOptions): Promise<RpcResult> {
    this.ensureReader();
    const blob = encodeRpcBlob(call, RETURN_PATH_PREFIX + this.replyKey);
    const expiryS = Math.max(1, Math.ceil(options.timeoutMs / 1000));
    const result = new Promise<RpcResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(call.id);
        reject(new errors.SY_ERR_REQUEST_TIMEOUT(`RPC ${call.api}.${call.procedure}()`, options.timeoutMs));
      }, options.timeoutMs);
      this.pending.set(call.id, { resolve, reject, timer });
    });
    // The expiry key first: a server must never see the call without it.
    // Commands on one connection keep their order: the expiry key exists before the call is
    // queued. Auto-pipelining sends those of every call made in the same tick in one write.
    await Promise.all([this.commands.set(rpcExpiryKey(call.id), '1', 'EX', expiryS), this.commands.rpush(rpcQueueKey(call.api), blob)]);
    return result;
  }

  private ensureReader(): void {
    if (this.loop || this.stopping) return;
    this.reader = openRedis(this.url, 'rpc-replies', this.logger);
    this.loop = this.read(this.reader);
  }

  private async read(reader: Redis): Promise<void> {
    while (!this.stopping) {
      try {
        // Every result waiting, in one blocking read (Redis ≥ 7.0; BLPOP before).
        for (const raw of await this.pop(reader)) this.settle(raw);
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
      result = decodeResultBlob(Buffer.from(raw));
    } catch (error) {
      this.logger.warn({ reason: (error as Error).message }, 'an RPC result could not be read; dropped');
      return;
    }
    const p = this.pending.get(result.rpcId);
    if (!p) return; // its caller gave up (timeout)
    this.pending.delete(result.rpcId);
    clearTimeout(p.timer);
    p.resolve(result);
  }

  async close(): Promise<void> {
    this.stopping = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new errors.SY_ERR_TRANSPORT_CLOSED('redis', `wait for the result of call ${id}`));
    }
    this.pending.clear();
    this.reader?.disconnect();
    await this.loop;
  }
}
