// The serving side of Lightbus RPC on Redis (SPECS.md §5.2): pop calls from the rpc
// queues of the served APIs, make sure each caller still waits (see admit), run it, then
// LPUSH the result blob to the return path's key and EXPIRE it after result_ttl (a caller
// of ours gets it published on its channel instead, see REPLY_KEY_PREFIX). Calls run
// concurrently up to `concurrency`; stop() waits for those running.

import type { Redis } from 'ioredis';
import type { Logger } from '../../../observability/logger.js';
import { decodeRpcBlob, encodeResultBlob } from '../../bus/blob.js';
import type { RpcResult, RpcServer } from '../../bus/bus-transport.js';
import type { Subscription } from '../../transport.js';
import { isClosedError, openRedis, sleep } from './connections.js';
import { corking, resultWriter, type ResultWrite } from './rpc-writes.js';
import { REPLY_KEY_PREFIX, RETURN_PATH_PREFIX, rpcExpiryKey, rpcQueueKey } from './names.js';
import { ageOfUuid1 } from '../../bus/uuid1.js';

/** A call made this recently (by its v1 UUID) runs without checking its expiry key first. */
const FRESH_MS = 1_000;

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
  // Results of the calls of one pop that finish at once go out on the reader, in the same
  // socket write as the next pop (corked in between): each write is tens of µs here.
  // Results that come while the reader is blocked go on a connection of their own.
  const writer = openRedis(options.url, 'rpc-results', logger);
  let blocked = false;
  let stopping = false;
  const writes = resultWriter(() => (blocked || stopping ? writer : reader), writer);
  const cork = corking(reader);
  const running = new Set<Promise<void>>();
  let slotFreed: (() => void) | undefined;

  /** Reads a call; undefined (logged) when it cannot be answered. */
  const decode = (raw: string) => {
    let call: ReturnType<typeof decodeRpcBlob>;
    try {
      call = decodeRpcBlob(raw);
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

  /** The calls of one pop whose results are not with the writer yet (see settleBatch). */
  interface Batch {
    unhanded: number;
    allHanded?: () => void;
  }
  let batch: Batch = { unhanded: 0 };

  /** `expiryKey`: the call's, still there to delete (admitted without a DEL). */
  const execute = async (call: NonNullable<ReturnType<typeof decode>>, expiryKey: string | undefined, of: Batch): Promise<void> => {
    let result: RpcResult;
    try {
      result = await server(call);
    } finally {
      // On success the result is added just below, before anything else can run.
      if (--of.unhanded === 0) of.allHanded?.();
    }
    const key = call.returnPath.slice(RETURN_PATH_PREFIX.length);
    const write: ResultWrite = { key, blob: encodeResultBlob(result), ttlS: options.resultTtlS, publish: key.startsWith(REPLY_KEY_PREFIX), expiryKey };
    await new Promise<void>((resolve, reject) => writes.add(write, (error) => (error ? reject(error) : resolve())));
  };

  const start = (call: NonNullable<ReturnType<typeof decode>>, expiryKey?: string) => {
    const done = () => {
      running.delete(p);
      slotFreed?.();
    };
    batch.unhanded++;
    const p: Promise<void> = execute(call, expiryKey, batch).then(done, (err) => {
      logger.error({ err }, 'answering an RPC call failed');
      done();
    });
    running.add(p);
  };

  /**
   * Until the calls of the last pop have their results with the writer (handlers that
   * answer at once), but no longer than one turn of the event loop (slower ones answer
   * on the writer connection later); then those results are written.
   */
  const settleBatch = async (of: Batch): Promise<void> => {
    if (of.unhanded > 0) {
      await Promise.race([new Promise<void>((r) => (of.allHanded = r)), new Promise<void>((r) => setImmediate(r))]);
      of.allHanded = undefined;
    }
    writes.flush();
  };

  /**
   * At most once: each call is popped once. A call whose caller gave up must not run
   * either: Lightbus's server DELs the call's expiry key first (0: drop it). That costs a
   * round trip per call, so a call whose v1 UUID says it was made within FRESH_MS by this
   * host's clock runs at once (its expiry key is deleted with the result's write);
   * older calls, and ids that are not v1 UUIDs, get the DEL first (one pipeline per
   * batch).
   */
  const admit = async (raws: string[]): Promise<void> => {
    const checked: NonNullable<ReturnType<typeof decode>>[] = [];
    for (const raw of raws) {
      const call = decode(raw);
      if (!call) continue;
      const age = ageOfUuid1(call.id);
      if (age !== undefined && age >= -FRESH_MS && age <= FRESH_MS) start(call, rpcExpiryKey(call.id));
      else checked.push(call);
    }
    if (checked.length === 0) return;
    const pipe = commands.pipeline();
    for (const c of checked) pipe.del(rpcExpiryKey(c.id));
    const replies = (await pipe.exec()) ?? [];
    checked.forEach((call, i) => {
      if (replies[i]?.[1] === 1) start(call);
      else logger.debug({ api: call.api, procedure: call.procedure, id: call.id }, 'an RPC call arrived after its caller gave up; dropped');
    });
  };

  let multiPop = true;
  const pop = async (room: number): Promise<string[]> => {
    blocked = true;
    try {
      return await popOnce(room);
    } finally {
      blocked = false;
    }
  };
  const popOnce = async (room: number): Promise<string[]> => {
    if (multiPop) {
      try {
        // One blocking read takes up to `room` waiting calls (Redis ≥ 7.0).
        const got = (await reader.blmpop(0, queues.length, ...queues, 'LEFT', 'COUNT', room)) as [string, string[]] | null;
        return got ? got[1] : [];
      } catch (error) {
        if (!/unknown command/i.test((error as Error).message)) throw error;
        multiPop = false;
        logger.info('this Redis has no BLMPOP (< 7.0): taking RPC calls one at a time');
      }
    }
    const popped = await reader.blpop(...queues, 0);
    return popped ? [popped[1]] : [];
  };

  const loop = (async () => {
    while (!stopping) {
      if (running.size >= options.concurrency) {
        cork.after();
        await new Promise<void>((r) => (slotFreed = r));
        continue;
      }
      try {
        const popping = pop(options.concurrency - running.size);
        cork.after(); // the results written since the last pop and this pop: one write
        const calls = await popping;
        cork.before();
        const admitted = (batch = { unhanded: 0 });
        await admit(calls);
        // Results of calls that finish at once are written (corked) before the next pop.
        await settleBatch(admitted);
      } catch (error) {
        cork.after();
        if (stopping || isClosedError(error)) return;
        logger.warn({ err: (error as Error).message }, 'reading RPC calls failed; retrying');
        await sleep(200);
      }
    }
  })();

  return {
    stop: async () => {
      stopping = true; // from here results go on the writer
      slotFreed?.();
      cork.after();
      // Calls running finish first: results already sent on the reader get their replies
      // there (they are ahead of its blocking pop), so the reader closes after them.
      await Promise.all(running);
      reader.disconnect();
      await loop;
      await Promise.all(running);
      writer.disconnect();
    },
  };
}
