// The kinds of RPC writes on Redis, collected per tick (../batcher.ts): calls in Lightbus's
// format as one script call per chunk, native calls as one RPUSH of one element per chunk,
// both on the caller's connection of their own; results as plain commands, which the
// server can send on its blocking reader together with the next pop (rpc-server.ts).

import type { Redis } from 'ioredis';
import { Batcher } from '../batcher.js';
import { withBusScripts, type BusScripts } from './scripts.js';
import { encodeCallElement } from '../../../protocols/lightbus/native-wire.js';
import { nativeRpcQueueKey } from '../../../protocols/lightbus/names.js';

/** Most writes in one script call; see batcher.ts for why bursts are cut. */
const whole = (sent: Promise<unknown>): Promise<void> => sent.then(() => undefined);
const CHUNK = 16;

export interface CallWrite {
  readonly queue: string;
  readonly expiryKey: string;
  readonly ttlS: number;
  readonly blob: string;
}

/** A call in our own format (native-wire.ts), as its line. */
export interface NativeCallWrite {
  readonly api: string;
  readonly line: string;
}

export interface ResultWrite {
  readonly key: string;
  readonly blob: string;
  readonly ttlS: number;
  /** The key names a caller of ours, who also listens on the channel of that name. */
  readonly publish: boolean;
  /** The call's expiry key, when it is still there to delete (see rpc-server.ts). */
  readonly expiryKey?: string;
}

type Stream = Redis['stream'];

/** Writes issued between the two calls leave the connection in one socket write. */
export function corking(redis: Redis): { before(): void; after(): void } {
  let corked: Stream | undefined;
  return {
    before: () => {
      corked = redis.stream;
      corked?.cork();
    },
    after: () => {
      corked?.uncork();
      corked = undefined;
    },
  };
}

/** Calls: one script per queue (and expiry) in a chunk, the chunks of a burst in one write. */
export function callWriter(connection: Redis): Batcher<CallWrite> {
  const redis: Redis & BusScripts = withBusScripts(connection);
  return new Batcher<CallWrite>(
    (calls) => {
      const first = calls[0]!;
      if (calls.every((c) => c.queue === first.queue && c.ttlS === first.ttlS)) return whole(sendCalls(redis, calls));
      const groups = new Map<string, CallWrite[]>();
      for (const c of calls) {
        const group = `${c.ttlS} ${c.queue}`;
        groups.get(group)?.push(c) ?? groups.set(group, [c]);
      }
      return whole(Promise.all([...groups.values()].map((g) => sendCalls(redis, g))));
    },
    { max: CHUNK, around: corking(connection) },
  );
}

/** Native calls: one RPUSH of one element per API in a chunk, the chunks of a burst in one write. */
export function nativeCallWriter(connection: Redis, replyKey: string): Batcher<NativeCallWrite> {
  const push = (api: string, lines: string[]) => connection.rpush(nativeRpcQueueKey(api), encodeCallElement(replyKey, lines));
  return new Batcher<NativeCallWrite>(
    (calls) => {
      const api = calls[0]!.api;
      if (calls.every((c) => c.api === api)) return whole(push(api, calls.map((c) => c.line)));
      const byApi = new Map<string, string[]>();
      for (const c of calls) byApi.get(c.api)?.push(c.line) ?? byApi.set(c.api, [c.line]);
      return whole(Promise.all([...byApi].map(([a, lines]) => push(a, lines))));
    },
    { max: CHUNK, around: corking(connection) },
  );
}

function sendCalls(redis: BusScripts, calls: CallWrite[]): Promise<number> {
  const keys: string[] = [calls[0]!.queue];
  const args: (string | number)[] = [calls[0]!.ttlS];
  for (const c of calls) {
    keys.push(c.expiryKey);
    args.push(c.blob);
  }
  return redis.busCalls(keys.length, ...keys, ...args);
}

/**
 * Results, per return path key: a caller of ours gets them published on its channel as one
 * message, one result per line (JSON text never holds a raw newline); when no one
 * received it (the caller is reconnecting, or gone) or Redis refused the PUBLISH, or for
 * a Lightbus caller, each is
 * LPUSHed to the key, which then EXPIREs after its TTL. Then one DEL of the expiry keys
 * of the calls answered. Plain commands, no script: `via` (picked per chunk) may be a
 * connection about to block, where a script's NOSCRIPT retry would wait behind the block.
 * The list fallback goes on `fallback`, a connection that never blocks.
 */
export function resultWriter(via: () => Redis, fallback: Redis): Batcher<ResultWrite> {
  return new Batcher<ResultWrite>((results) => sendResults(via(), fallback, results), { max: CHUNK });
}

function sendResults(via: Redis, fallback: Redis, results: ResultWrite[]): Promise<void> {
  const byKey = new Map<string, { blobs: string[]; ttlS: number; publish: boolean }>();
  const expiryKeys: string[] = [];
  for (const r of results) {
    const entry = byKey.get(r.key);
    if (entry) entry.blobs.push(r.blob);
    else byKey.set(r.key, { blobs: [r.blob], ttlS: r.ttlS, publish: r.publish });
    if (r.expiryKey) expiryKeys.push(r.expiryKey);
  }
  const sent: Promise<unknown>[] = [];
  const cork = corking(via);
  cork.before();
  try {
    for (const [key, { blobs, ttlS, publish }] of byKey) {
      if (!publish) sent.push(pushToList(via, key, blobs, ttlS));
      else {
        // No subscriber, or PUBLISH refused (e.g. an ACL without channels): the list.
        const toList = () => pushToList(fallback, key, blobs, ttlS);
        sent.push(via.publish(key, blobs.join('\n')).then((received) => (received > 0 ? undefined : toList()), toList));
      }
    }
    if (expiryKeys.length > 0) sent.push(via.del(...expiryKeys));
  } finally {
    cork.after();
  }
  return whole(Promise.all(sent));
}

/** Lightbus's result write: LPUSH, then EXPIRE (one connection keeps them in order). */
function pushToList(redis: Redis, key: string, blobs: string[], ttlS: number): Promise<unknown> {
  return Promise.all([redis.lpush(key, ...blobs), redis.expire(key, ttlS)]);
}
