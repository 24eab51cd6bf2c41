// The serving side of Lightbus RPC on Redis (SPECS.md §5.2): BLPOP the rpc queues of the
// served APIs, DEL the call's expiry key (0: the caller gave up, drop it; 1: run it), then
// LPUSH the result blob to the return path's key and EXPIRE it after result_ttl. Calls run
// concurrently up to `concurrency`; stop() waits for those running.

import type { Redis } from 'ioredis';
import type { Logger } from '../../../observability/logger.js';
import { decodeRpcBlob, encodeResultBlob } from '../../bus/blob.js';
import type { RpcServer } from '../../bus/bus-transport.js';
import type { Subscription } from '../../transport.js';
import { isClosedError, openRedis, sleep } from './connections.js';
import { RETURN_PATH_PREFIX, rpcExpiryKey, rpcQueueKey } from './names.js';

export interface RpcServeOptions {
  readonly url: string;
  readonly commands: Redis;
  readonly logger: Logger;
  readonly resultTtlS: number;
  readonly concurrency: number;
}

export function serveRpcs(apis: readonly string[], server: RpcServer, options: RpcServeOptions): Subscription {
  const { commands, logger } = options;
  const queues = apis.map(rpcQueueKey);
  const reader = openRedis(options.url, 'rpc-server', logger);
  const running = new Set<Promise<void>>();
  let stopping = false;
  let slotFreed: (() => void) | undefined;

  /** Reads a call; undefined (logged) when it cannot be answered. */
  const decode = (raw: string) => {
    let call: ReturnType<typeof decodeRpcBlob>;
    try {
      call = decodeRpcBlob(Buffer.from(raw));
    } catch (error) {
      logger.warn({ reason: (error as Error).message }, 'an RPC call could not be read; dropped (no return path to answer on)');
      return undefined;
    }
    if (!call.returnPath.startsWith(RETURN_PATH_PREFIX)) {
      logger.warn({ api: call.api, procedure: call.procedure, id: call.id }, `an RPC call's return path does not start with ${RETURN_PATH_PREFIX}; dropped`);
      return undefined;
    }
    return call;
  };

  const execute = async (call: NonNullable<ReturnType<typeof decode>>): Promise<void> => {
    const result = await server(call);
    const key = call.returnPath.slice(RETURN_PATH_PREFIX.length);
    await commands.pipeline().lpush(key, encodeResultBlob(result)).expire(key, options.resultTtlS).exec();
  };

  const start = (call: NonNullable<ReturnType<typeof decode>>) => {
    const p = execute(call)
      .catch((err) => logger.error({ err }, 'answering an RPC call failed'))
      .finally(() => {
        running.delete(p);
        slotFreed?.();
      });
    running.add(p);
  };

  /**
   * At most once: whoever deletes a call's expiry key runs it; a call whose key is gone
   * (its caller gave up) is dropped. The DELs of a batch go in one pipeline, together with
   * an LPOP that takes more waiting calls of the same queue, so a busy queue costs one
   * round trip per batch rather than one per call.
   */
  const admit = async (queue: string, raws: string[]): Promise<void> => {
    const calls = raws.map(decode);
    const live = calls.filter((c): c is NonNullable<typeof c> => c !== undefined);
    const room = Math.max(0, options.concurrency - running.size - raws.length);
    const pipe = commands.pipeline();
    for (const c of live) pipe.del(rpcExpiryKey(c.id));
    if (room > 0) pipe.lpop(queue, room);
    const replies = (await pipe.exec()) ?? [];
    live.forEach((call, i) => {
      if (replies[i]?.[1] === 1) start(call);
      else logger.debug({ api: call.api, procedure: call.procedure, id: call.id }, 'an RPC call arrived after its caller gave up; dropped');
    });
    const more = room > 0 ? (replies[live.length]?.[1] as string[] | null) : null;
    if (more && more.length > 0) await admit(queue, more);
  };

  const loop = (async () => {
    while (!stopping) {
      if (running.size >= options.concurrency) {
        await new Promise<void>((r) => (slotFreed = r));
        continue;
      }
      try {
        const popped = await reader.blpop(...queues, 0);
        if (popped) await admit(popped[0], [popped[1]]);
      } catch (error) {
        if (stopping || isClosedError(error)) return;
        logger.warn({ err: (error as Error).message }, 'reading RPC calls failed; retrying');
        await sleep(200);
      }
    }
  })();

  return {
    stop: async () => {
      stopping = true;
      slotFreed?.();
      reader.disconnect();
      await loop;
      await Promise.all(running);
    },
  };
}
