// Dead letters, on every transport that keeps them (memory, RabbitMQ, Redis): the one
// interface the dashboard's panel and `switchyard dead-letters` use to list the queues that
// hold dead letters, look at them with the reason, attempts and source queue their
// transport recorded (DEAD_LETTER_HEADERS), send one or all back to the queue they came
// from, or discard them.
//
// A queue is named by its source queue ("classify-in"); its dead letters live in
// deadLetterQueueOf(queue) ("classify-in.dead-letter"); either name is accepted. A retried
// message goes back with its own headers, without the dead-letter headers and the attempt
// count, so it gets its full number of tries again.

import { createHash } from 'node:crypto';
import { errors } from '../errors.js';
import { DEAD_LETTER_HEADERS, deadLetterQueueOf, type Headers } from './transport.js';

export interface DeadLetterQueue {
  /** The queue the dead letters came from. */
  readonly queue: string;
  /** Where they wait. */
  readonly deadLetterQueue: string;
  readonly count: number;
}

export interface DeadLetter {
  /** Names this dead letter for retry/discard: the stream entry id on Redis, a fingerprint of its content elsewhere. */
  readonly id: string;
  /** The queue it was read from (the source queue's name). */
  readonly queue: string;
  readonly reason: string;
  /** Deliveries it had before it was set aside, when the transport recorded them. */
  readonly attempts?: number;
  /** The queue it came from, as recorded when it was set aside (a retry sends it there). */
  readonly source: string;
  /** Its own headers (the dead-letter headers taken out). */
  readonly headers: Headers;
  readonly body: Uint8Array;
}

export interface PeekOptions {
  /** Most dead letters returned, oldest first. Default 100. */
  readonly limit?: number;
}

export interface DeadLetters {
  /** The transport's name: "memory", "amqp", "redis". */
  readonly transport: string;
  /** Queues that hold dead letters now (with how many). */
  queues(): Promise<DeadLetterQueue[]>;
  peek(queue: string, options?: PeekOptions): Promise<DeadLetter[]>;
  /** Sends the dead letter back to its source queue; false when it is no longer there. */
  retry(queue: string, id: string): Promise<boolean>;
  /** Sends every dead letter of the queue back; returns how many. */
  retryAll(queue: string): Promise<number>;
  /** Deletes it for good; false when it is no longer there. */
  discard(queue: string, id: string): Promise<boolean>;
  discardAll(queue: string): Promise<number>;
  /** Releases connections of its own, if any. */
  close(): Promise<void>;
}

const SUFFIX = deadLetterQueueOf('');

/** The source queue a name means: "q" and "q.dead-letter" both mean "q". */
export function sourceQueueOf(name: string): string {
  if (name.length === 0) throw new errors.SY_ERR_USAGE('give the name of a queue (or of its dead-letter queue)');
  return name.endsWith(SUFFIX) && name.length > SUFFIX.length ? name.slice(0, -SUFFIX.length) : name;
}

/** The DeadLetter a transport read: the recorded headers split from the message's own. */
export function readDeadLetter(id: string, queue: string, body: Uint8Array, headers: Headers): DeadLetter {
  const own: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (!DEAD_LETTER_KEYS.has(k)) own[k] = v;
  const attempts = Number(headers[DEAD_LETTER_HEADERS.attempts]);
  return {
    id,
    queue,
    reason: headers[DEAD_LETTER_HEADERS.reason] ?? '(no reason recorded)',
    ...(Number.isInteger(attempts) && attempts > 0 ? { attempts } : {}),
    source: headers[DEAD_LETTER_HEADERS.sourceQueue] || queue,
    headers: own,
    body,
  };
}

const DEAD_LETTER_KEYS = new Set<string>(Object.values(DEAD_LETTER_HEADERS));

/** The headers a retried message goes back with: its own, without the dead-letter headers (and `drop`, a transport's attempt headers). */
export function retryHeaders(headers: Headers, drop: ReadonlySet<string> = NONE): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (!DEAD_LETTER_KEYS.has(k) && !drop.has(k)) out[k] = v;
  return out;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * A name for a message that has no id of its own on the broker: a digest of its body and
 * headers. Two identical dead letters share it; retrying "it" then retries one of them,
 * which is the same thing.
 */
export function fingerprint(body: Uint8Array, headers: Readonly<Record<string, unknown>>): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(Object.keys(headers).sort().map((k) => [k, String(headers[k])])));
  hash.update('\u0000');
  hash.update(body);
  return hash.digest('hex').slice(0, 16);
}

export function checkLimit(limit: number | undefined): number {
  const n = limit ?? 100;
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new errors.SY_ERR_USAGE(`limit must be a whole number from 1 to 10000, got ${String(limit)}`);
  return n;
}
