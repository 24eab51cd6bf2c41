// The serving side of RPC on Redis. Calls come from two queues per API: Lightbus's
// "{api}:rpc_queue" (SPECS.md §5.2; any Lightbus caller, and ours when no server of ours
// was seen) and our own (native-wire.ts; announced in native-servers.ts). For a Lightbus
// call: make sure its caller still waits (see admit), run it, then LPUSH the result blob
// to the return path's key and EXPIRE it after result_ttl (a caller of ours gets it
// published on its channel instead, see REPLY_KEY_PREFIX). For a native call: drop it if
// its deadline passed on Redis's clock, else run it and publish its result line. Calls
// run concurrently up to `concurrency`; stop() waits for those running.

import type { Redis } from 'ioredis';
import type { Logger } from '../../../observability/logger.js';
import { errors } from '../../../errors.js';
import { warnLimiter } from '../../../observability/warn-limiter.js';
import { answerableCall, decodeRpcBlob, encodeResultBlob } from '../../../protocols/lightbus/blob.js';
import { reprOf } from '../../bus/python-repr.js';
import type { RpcCall, RpcResult, RpcServer } from '../../bus/bus-transport.js';
import type { Subscription } from '../../transport.js';
import { STOP_GRACE_MS, isClosedError, signal, sleep, unlessStopped, type RedisConnections } from '../connection.js';
import { corking, resultWriter, type ResultWrite } from './rpc-writes.js';
import { REPLY_KEY_PREFIX, RETURN_PATH_PREFIX, nativeRpcQueueKey, rpcExpiryKey, rpcQueueKey } from '../../../protocols/lightbus/names.js';
import { ageOfUuid1 } from '../../bus/uuid1.js';
import { decodeCallElement, encodeResultLine, type NativeCall } from '../../../protocols/lightbus/native-wire.js';
import { announceServer } from './native-servers.js';
import { RedisClock } from './redis-clock.js';

/** A call made this recently (by its v1 UUID) runs without checking its expiry key first. */
const FRESH_MS = 1_000;

export interface RpcServeOptions {
  readonly connections: RedisConnections;
  readonly commands: Redis;
  readonly logger: Logger;
  readonly resultTtlS: number;
  readonly concurrency: number;
}

/** A call admitted to run, and where its result goes. */
interface Job {
  readonly call: RpcCall;
  readonly replyKey: string;
  /** Our own format both ways (native-wire.ts); else Lightbus's. */
  readonly native: boolean;
  /** Native calls: dropped unstarted past this (Redis clock ms). */
  readonly deadline?: number;
  /** The Lightbus call's expiry key, still there to delete (admitted without a DEL). */
  readonly expiryKey?: string;
}

export function serveRpcs(apis: readonly string[], server: RpcServer, options: RpcServeOptions): Subscription {
  const { commands, logger } = options;
  // What a peer sends is logged at most a few lines per kind per window (warn-limiter.ts).
  const warn = warnLimiter(logger);
  const lightbusQueues = new Map(apis.map((api) => [rpcQueueKey(api), api]));
  const nativeQueues = new Map(apis.map((api) => [nativeRpcQueueKey(api), api]));
  // Both orders, taken in turn: BLMPOP pops from the first non-empty list only, so a
  // busy queue of one kind cannot starve the other.
  const orders = [
    [...nativeQueues.keys(), ...lightbusQueues.keys()],
    [...lightbusQueues.keys(), ...nativeQueues.keys()],
  ];
  let turn = 0;
  const reader = options.connections.create('rpc-server', 'blocking');
  // Results of the calls of one pop that finish at once go out on the reader, in the same
  // socket write as the next pop (corked in between): each write is tens of µs here.
  // Results that come while the reader is blocked go on a connection of their own.
  const writer = options.connections.create('rpc-results', 'direct', { maxRetriesPerRequest: null });
  let blocked = false;
  let stopping = false;
  /** Resolved when stop() begins: the blocking pop ends at once. */
  const stopped = signal();
  const writes = resultWriter(() => (blocked || stopping ? writer : reader), writer);
  const cork = corking(reader);
  /** Calls started whose result is not written yet. */
  let running = 0;
  let drained: (() => void) | undefined;
  /** Native calls popped beyond the free slots (an element holds many): run as slots free. */
  const backlog: Job[] = [];
  let slotFreed: (() => void) | undefined;
  let clock: RedisClock | undefined;

  /**
   * Reads a Lightbus call; undefined when it cannot be run. One whose id and return path
   * can still be read (kwargs a list, say) is answered with an error result (issue 17
   * #12: its caller learns why instead of timing out); others are dropped, logged.
   */
  const decodeLightbus = (raw: string) => {
    let call: ReturnType<typeof decodeRpcBlob>;
    try {
      call = decodeRpcBlob(raw);
    } catch (error) {
      const reason = (error as Error).message;
      const parts = answerableCall(raw);
      if (!parts?.returnPath.startsWith(RETURN_PATH_PREFIX)) {
        warn.warn('unreadable call', { reason }, 'an RPC call could not be read; dropped (no return path to answer on)');
        return undefined;
      }
      const { id, api, procedure } = parts;
      const what = `the call ${id} of RPC ${api ?? '(no api_name)'}.${procedure ?? '(no procedure_name)'}()`;
      warn.warn('refused call', { api, procedure, id, reason }, 'an RPC call could not be read; answered with an error result');
      const refusal = new errors.SY_ERR_BUS_CALL(what, parts.why);
      const key = parts.returnPath.slice(RETURN_PATH_PREFIX.length);
      const result: RpcResult = { rpcId: id, error: true, result: reprOf(refusal), trace: '' };
      writes.add(
        { key, blob: encodeResultBlob(result), ttlS: options.resultTtlS, publish: key.startsWith(REPLY_KEY_PREFIX), expiryKey: rpcExpiryKey(id) },
        (e) => e && logger.error({ err: e }, 'answering an unreadable RPC call failed'),
      );
      return undefined;
    }
    if (!call.returnPath.startsWith(RETURN_PATH_PREFIX)) {
      warn.warn('return path', { api: call.api, procedure: call.procedure, id: call.id }, `an RPC call's return path does not start with ${RETURN_PATH_PREFIX}; dropped`);
      return undefined;
    }
    return call;
  };

  /** The calls of one pop whose results are not with the writer yet (see untilHanded). */
  interface Batch {
    unhanded: number;
    /** Calls of the pop started at once. */
    started?: number;
    allHanded?: () => void;
  }

  // The path of every call, written without async functions: at tens of thousands of
  // calls a second their promises and frames were a good part of the garbage, and each
  // scavenge stalls every call in flight.
  const writeOf = (job: Job, result: RpcResult): ResultWrite =>
    job.native
      ? { key: job.replyKey, blob: encodeResultLine(result), ttlS: options.resultTtlS, publish: true }
      : { key: job.replyKey, blob: encodeResultBlob(result), ttlS: options.resultTtlS, publish: job.replyKey.startsWith(REPLY_KEY_PREFIX), expiryKey: job.expiryKey };

  const finish = (error?: Error) => {
    if (error) logger.error({ err: error }, 'answering an RPC call failed');
    running--;
    while (backlog.length > 0 && running < options.concurrency) start(backlog.shift()!, { unhanded: 0 });
    if (running === 0) drained?.();
    slotFreed?.();
  };

  /** The result is with the writer (or there is none): the batch may be written. */
  const handed = (of: Batch) => {
    if (--of.unhanded === 0) of.allHanded?.();
  };

  const expired = (job: Job) => {
    if (job.deadline === undefined || job.deadline >= clock!.now()) return false;
    logger.debug({ api: job.call.api, procedure: job.call.procedure, id: job.call.id }, 'an RPC call arrived after its caller gave up; dropped');
    return true;
  };

  /** Starts `job` now if a slot is free, else keeps it for later. */
  const start = (job: Job, of: Batch): void => {
    if (running >= options.concurrency) {
      backlog.push(job);
      return;
    }
    if (expired(job)) return;
    running++;
    of.unhanded++;
    of.started = (of.started ?? 0) + 1;
    let answer: RpcResult | Promise<RpcResult>;
    try {
      answer = server(job.call);
    } catch (error) {
      answer = Promise.reject(error);
    }
    if (!(answer instanceof Promise)) {
      // Answered at once: with the writer before its batch is written, no turn waited.
      writes.add(writeOf(job, answer), finish);
      handed(of);
      return;
    }
    answer.then(
      (result) => {
        // Added before anything else can run, so it is written with its batch.
        writes.add(writeOf(job, result), finish);
        handed(of);
      },
      (error: Error) => {
        handed(of);
        finish(error);
      },
    );
  };

  /**
   * Until the calls of the last pop have their results with the writer (handlers that
   * answer within a few microtasks), but no longer than one turn of the event loop (slower
   * ones answer on the writer connection later).
   */
  const untilHanded = async (of: Batch): Promise<void> => {
    // Cheaper than arming the race below, for handlers that answer within a microtask or two.
    for (let i = 0; i < 3 && of.unhanded > 0; i++) await null;
    if (of.unhanded > 0) {
      await Promise.race([new Promise<void>((r) => (of.allHanded = r)), new Promise<void>((r) => setImmediate(r))]);
      of.allHanded = undefined;
    }
  };

  const admitNative = (api: string, raws: string[], of: Batch): void => {
    for (const raw of raws) {
      let calls: NativeCall[];
      let replyKey: string;
      try {
        const element = decodeCallElement(api, raw);
        for (const why of element.bad) warn.warn('unreadable native call', { api, reason: why }, 'an RPC call could not be read; dropped (its caller times out)');
        ({ calls, replyKey } = element);
        for (const { id, why } of element.refused) {
          warn.warn('refused native call', { api, id, reason: why }, 'an RPC call could not be read; answered with an error result');
          const refusal = new errors.SY_ERR_BUS_CALL(`the call ${id} of API ${api}`, why);
          writes.add(
            { key: replyKey, blob: encodeResultLine({ rpcId: id, error: true, result: reprOf(refusal), trace: '' }), ttlS: options.resultTtlS, publish: true },
            (e) => e && logger.error({ err: e }, 'answering an unreadable RPC call failed'),
          );
        }
      } catch (error) {
        warn.warn('unreadable native batch', { api, reason: (error as Error).message }, 'a batch of RPC calls could not be read; dropped (their callers time out)');
        continue;
      }
      for (const call of calls) start({ call, replyKey, native: true, deadline: call.deadline }, of);
    }
  };

  /**
   * At most once: each call is popped once. A call whose caller gave up must not run
   * either: Lightbus's server DELs the call's expiry key first (0: drop it). That costs a
   * round trip per call, so a call whose v1 UUID says it was made within FRESH_MS by this
   * host's clock runs at once (its expiry key is deleted with the result's write);
   * older calls, and ids that are not v1 UUIDs, get the DEL first (one pipeline per
   * batch).
   */
  const admitLightbus = async (raws: string[], of: Batch): Promise<void> => {
    const checked: NonNullable<ReturnType<typeof decodeLightbus>>[] = [];
    const jobOf = (call: NonNullable<ReturnType<typeof decodeLightbus>>, expiryKey?: string): Job => ({
      call,
      replyKey: call.returnPath.slice(RETURN_PATH_PREFIX.length),
      native: false,
      ...(expiryKey ? { expiryKey } : {}),
    });
    for (const raw of raws) {
      const call = decodeLightbus(raw);
      if (!call) continue;
      const age = ageOfUuid1(call.id);
      if (age !== undefined && age >= -FRESH_MS && age <= FRESH_MS) start(jobOf(call, rpcExpiryKey(call.id)), of);
      else checked.push(call);
    }
    if (checked.length === 0) return;
    const pipe = commands.pipeline();
    for (const c of checked) pipe.del(rpcExpiryKey(c.id));
    const replies = (await pipe.exec()) ?? [];
    checked.forEach((call, i) => {
      if (replies[i]?.[1] === 1) start(jobOf(call), of);
      else logger.debug({ api: call.api, procedure: call.procedure, id: call.id }, 'an RPC call arrived after its caller gave up; dropped');
    });
  };

  /** Calls per element of the last pop: a native element holds many, so pop fewer. */
  let perElement = 1;
  let multiPop = true;
  const unblocked = (got: [string, string[]] | null | undefined) => ((blocked = false), got ?? undefined);
  const unblockedError = (error: unknown): never => {
    blocked = false;
    throw error;
  };
  /**
   * One blocking read of up to `room` calls' worth, as one promise without async layers
   * (each layer cost a cold µs or two per hop at low rates).
   */
  const pop = (room: number): Promise<[string, string[]] | undefined> => unlessStopped(popNow(room), stopped);
  const popNow = (room: number): Promise<[string, string[]] | undefined> => {
    blocked = true;
    const queues = orders[turn++ & 1]!;
    if (!multiPop) return popOne(queues);
    // One blocking read takes up to `count` waiting elements (Redis ≥ 7.0).
    const count = Math.max(1, Math.floor(room / perElement));
    return (reader.blmpop(0, queues.length, ...queues, 'LEFT', 'COUNT', count) as Promise<[string, string[]] | null>).then(unblocked, (error: Error) => {
      if (!/unknown command/i.test(error.message)) return unblockedError(error);
      multiPop = false;
      logger.info('this Redis has no BLMPOP (< 7.0): taking RPC calls one at a time');
      return popOne(queues);
    });
  };
  const popOne = (queues: string[]): Promise<[string, string[]] | undefined> =>
    reader.blpop(...queues, 0).then((got) => unblocked(got ? [got[0], [got[1]]] : undefined), unblockedError);

  /** Starts the calls of a pop; a promise only for Lightbus calls that need a check first. */
  const admit = ([queue, raws]: [string, string[]], of: Batch): Promise<void> | undefined => {
    const nativeApi = nativeQueues.get(queue);
    if (nativeApi === undefined) {
      perElement = 1;
      return admitLightbus(raws, of);
    }
    const before = running + backlog.length;
    admitNative(nativeApi, raws, of);
    perElement = Math.max(1, (running + backlog.length - before) / raws.length);
    return undefined;
  };

  let announced: { stop(): Promise<void> } | undefined;
  const loop = (async () => {
    try {
      clock = await unlessStopped(RedisClock.of(commands), stopped.promise);
      if (!clock) return;
      announced = await unlessStopped(announceServer(commands, clock, apis, logger), stopped.promise);
      if (stopping) {
        clock.stop();
        return void (await unlessStopped(announced?.stop() ?? Promise.resolve(), sleep(STOP_GRACE_MS)));
      }
    } catch (error) {
      if (stopping || isClosedError(error)) return;
      throw error;
    }
    while (!stopping) {
      if (running + backlog.length >= options.concurrency) {
        cork.after();
        await new Promise<void>((r) => (slotFreed = r));
        continue;
      }
      try {
        const popping = pop(options.concurrency - running - backlog.length);
        cork.after(); // the results written since the last pop and this pop: one write
        const popped = await popping;
        cork.before();
        const admitted: Batch = { unhanded: 0 };
        const checking = popped && admit(popped, admitted);
        if (checking) await checking;
        // Results of calls that finish at once are written (corked) before the next pop.
        if (admitted.unhanded > 0) await untilHanded(admitted);
        writes.flush();
        // A lone call's result leaves now, ahead of the next pop: at low rates each hop runs
        // cold and building the pop command first delayed the result by several µs; the
        // extra write is off the path (the next call is at least a round trip away).
        if ((admitted.started ?? 0) <= 1) cork.after();
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
      stopped.resolve();
      // Our callers stop sending native calls here (it lapses anyway if Redis is away).
      await unlessStopped(announced?.stop() ?? Promise.resolve(), sleep(STOP_GRACE_MS));
      slotFreed?.();
      cork.after();
      // Calls running finish first (and those popped waiting for a slot): results already
      // sent on the reader get their replies there (they are ahead of its blocking pop),
      // so the reader closes after them. Results that Redis does not take (it is away) are
      // waited for STOP_GRACE_MS, then given up: their callers time out (at most once).
      const allDone = async () => {
        let unreachableSince: number | undefined;
        while (running > 0) {
          await Promise.race([new Promise<void>((r) => (drained = r)), sleep(200)]);
          const reachable = reader.status === 'ready' || writer.status === 'ready';
          unreachableSince = reachable ? undefined : (unreachableSince ?? Date.now());
          if (unreachableSince !== undefined && Date.now() - unreachableSince >= STOP_GRACE_MS) {
            logger.warn({ unanswered: running }, 'stopping while Redis is unreachable: results not written are given up (their callers time out)');
            return;
          }
        }
      };
      await allDone();
      reader.disconnect();
      await loop;
      await allDone();
      clock?.stop();
      writer.disconnect();
      warn.flush();
    },
  };
}
