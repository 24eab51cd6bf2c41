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

  const execute = async (raw: string): Promise<void> => {
    let call: ReturnType<typeof decodeRpcBlob>;
    try {
      call = decodeRpcBlob(Buffer.from(raw));
    } catch (error) {
      logger.warn({ reason: (error as Error).message }, 'an RPC call could not be read; dropped (no return path to answer on)');
      return;
    }
    if (!call.returnPath.startsWith(RETURN_PATH_PREFIX)) {
      logger.warn({ api: call.api, procedure: call.procedure, id: call.id }, `an RPC call's return path does not start with ${RETURN_PATH_PREFIX}; dropped`);
      return;
    }
    // At most once: whoever deletes the expiry key runs the call; a late call is dropped.
    if ((await commands.del(rpcExpiryKey(call.id))) === 0) {
      logger.debug({ api: call.api, procedure: call.procedure, id: call.id }, 'an RPC call arrived after its caller gave up; dropped');
      return;
    }
    const result = await server(call);
    const key = call.returnPath.slice(RETURN_PATH_PREFIX.length);
    await commands.multi().lpush(key, encodeResultBlob(result)).expire(key, options.resultTtlS).exec();
  };

  const start = (raw: string) => {
    const p = execute(raw)
      .catch((err) => logger.error({ err }, 'answering an RPC call failed'))
      .finally(() => {
        running.delete(p);
        slotFreed?.();
      });
    running.add(p);
  };

  const loop = (async () => {
    while (!stopping) {
      if (running.size >= options.concurrency) {
        await new Promise<void>((r) => (slotFreed = r));
        continue;
      }
      let popped: [string, string] | null;
      try {
        popped = await reader.blpop(...queues, 0);
      } catch (error) {
        if (stopping || isClosedError(error)) return;
        logger.warn({ err: (error as Error).message }, 'reading RPC calls failed; retrying');
        await sleep(200);
        continue;
      }
      if (!popped) continue;
      start(popped[1]);
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
