// Every Redis key and consumer-group name the generic Redis transport uses, in one place.
//
//   {prefix}q:{queue}               stream: a durable queue (one consumer group, GROUP_OF_QUEUE)
//   {prefix}qd:{queue}              sorted set: delayed requeues of the queue (uid → due time)
//   {prefix}qdd:{queue}             hash: the delayed entries themselves (uid → packed entry)
//   {prefix}t:{topic}               stream: a topic (one consumer group per listener group)
//   {prefix}rpc:{subject}           list: requests waiting for a responder
//   {prefix}reply:{random}:{n}      list: the reply of one request (expires)
//
// A listener group's own retries (requeue, delayed requeue, handed-back deliveries) cannot
// go back on the topic stream, where every group would see them again: they go to a
// queue of the group's own, groupQueueOf(topic, group), read together with the topic.
// The kinds differ before their first ':' (q, qd, qdd, t, rpc, reply), so no queue,
// topic or subject name can make two kinds share a key.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export const DEFAULT_KEY_PREFIX = 'sy:';

/** The consumer group every queue stream has (queues have exactly one). */
export const GROUP_OF_QUEUE = 'switchyard';

/** Stream-entry fields: body, headers (JSON, absent when none), attempt carried (absent when 1). */
export const FIELD = { body: 'b', headers: 'h', attempt: 'a' } as const;

/** Headers of a reply that carry a responder's failure. */
export const REDIS_HEADERS = {
  error: 'x-switchyard-error',
} as const;

export class RedisNames {
  /** Reply keys: random per transport, then a counter (no random bytes drawn per call). */
  private readonly replyBase: string;
  private replies = 0;

  constructor(readonly prefix: string = DEFAULT_KEY_PREFIX) {
    this.replyBase = `${prefix}reply:${randomBytes(9).toString('base64url')}:`;
  }

  queueStream(queue: string): string {
    return `${this.prefix}q:${queue}`;
  }

  delayedSet(queue: string): string {
    return `${this.prefix}qd:${queue}`;
  }

  delayedData(queue: string): string {
    return `${this.prefix}qdd:${queue}`;
  }

  topicStream(topic: string): string {
    return `${this.prefix}t:${topic}`;
  }

  requestList(subject: string): string {
    return `${this.prefix}rpc:${subject}`;
  }

  replyList(): string {
    return `${this.replyBase}${(this.replies++).toString(36)}`;
  }
}

/**
 * The queue that holds a listener group's own retries, also the `queue` its deliveries
 * name (and whose dead-letter queue gets its dead letters). The topic's length leads, so
 * no two (topic, group) pairs share it whatever ':' they contain.
 */
export function groupQueueOf(topic: string, group: string): string {
  return `switchyard.group:${topic.length}:${topic}:${group}`;
}

/** A consumer name unique to one subscription: host, pid and random, for XINFO readers. */
export function consumerName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}
