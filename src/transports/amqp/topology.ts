// Names and shapes of what the AMQP transport declares on the broker, in one place.
//
// - Work queues are plain queues on the default exchange, exactly as slingshot uses them
//   (routing key = queue name, body = the id's decimal text).
// - Dead letters go through one durable direct exchange, routing key = the source queue,
//   to `{queue}.dead-letter`. The transport publishes them itself (with the reason and
//   source queue in headers), so it works on queues declared without x-dead-letter-*
//   arguments, such as slingshot's.
// - Delayed requeues wait in per-queue delay tiers: `{queue}.delay.{ms}` with a fixed
//   x-message-ttl that dead-letters back to the queue. One TTL per tier queue means no
//   message waits behind a longer one (per-message TTLs only expire at the queue head).

import { errors } from '../../errors.js';
import { deadLetterQueueOf } from '../transport.js';

export const DEAD_LETTER_EXCHANGE = 'switchyard.dead-letter';
export const TOPIC_EXCHANGE = 'switchyard.topics';
export const RPC_PREFIX = 'switchyard.rpc.';
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/** Headers this transport adds to carry state a classic queue cannot keep. */
export const AMQP_HEADERS = {
  /** The delivery count carried across republished retries (1-based). */
  attempt: 'x-switchyard-attempt',
  /** Set on a retry republished by nack({ requeue: true }): the broker's redelivered flag is lost there. */
  redelivered: 'x-switchyard-redelivered',
  /** A request handler's failure, on a reply. */
  error: 'x-switchyard-error',
} as const;

export { deadLetterQueueOf };

/** Delay tiers in ms: 100 ms doubling up to ~27 min. A delay uses the largest tier not above it. */
const DELAY_TIERS = Array.from({ length: 15 }, (_, i) => 100 * 2 ** i);

export function delayTierOf(delayMs: number): number {
  let tier = DELAY_TIERS[0]!;
  for (const t of DELAY_TIERS) if (t <= delayMs) tier = t;
  return tier;
}

export function delayQueueOf(queue: string, tierMs: number): string {
  return `${queue}.delay.${tierMs}`;
}

/**
 * The queue of listener group `group` on `topic`. The topic's length leads, so no two
 * (topic, group) pairs share a queue whatever ':' they contain.
 */
export function groupQueueOf(topic: string, group: string): string {
  return `switchyard.group:${topic.length}:${topic}:${group}`;
}

export function rpcQueueOf(subject: string): string {
  return `${RPC_PREFIX}${subject}`;
}

/**
 * Turns the broker's PRECONDITION_FAILED for a redeclared queue into an error naming the
 * queue, the flag that differs and the setting to change. The broker's text looks like:
 * "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'q' in vhost '/': received 'true' but current is 'false'"
 */
export function queueFlagsError(queue: string, brokerMessage: string): Error {
  // amqplib wraps it: Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "…"
  const m = /inequivalent arg '([^']+)' for queue '[^']*' in vhost '[^']*': received '?([^'"]+?)'? but current is '?([^'"]+?)'?"?$/.exec(brokerMessage.trim());
  if (!m) return new errors.SY_ERR_QUEUE_FLAGS(queue, `the broker refused its declaration: ${brokerMessage}`, `queues.${queue} in the system map`);
  const [, flag, received, current] = m;
  const setting = flag === 'durable' || flag === 'exclusive' || flag === 'auto_delete'
    ? `queues.${queue}.${flag === 'auto_delete' ? 'autoDelete' : flag}`
    : `queues.${queue}.arguments.${flag}`;
  return new errors.SY_ERR_QUEUE_FLAGS(
    queue,
    `it exists with ${flag} = ${current}, and Switchyard declared it with ${flag} = ${received}`,
    `${setting}: ${current} in the system map (to keep the existing queue), or remove the declaration (the map's queueDefaults/queues, --queue-durable, --queue-arguments) so the existing queue is used as it is, or delete the queue so it is declared anew`,
  );
}
