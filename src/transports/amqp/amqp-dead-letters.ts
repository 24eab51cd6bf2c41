// Dead letters on RabbitMQ: `{queue}.dead-letter` queues (topology.ts), read with basic.get
// on a channel of their own. Messages taken and not acked go back, in their order, when
// that channel closes, so a look (peek) changes nothing. A retry republishes the message
// to its source queue on the default exchange, waits for the broker's confirm, and only
// then acks the dead letter: a crash in between leaves a duplicate, never a loss.
//
// AMQP cannot list queues (that needs the management plugin), so the queues looked at are
// the ones named: from the system map, or given on the command line.

import type { Channel, ChannelModel, ConfirmChannel, GetMessage } from 'amqplib';
import { loadAmqplib } from './amqplib.js';
import { errors, redactUrl } from '../../errors.js';
import type { ChannelFigures, Probe, ProbeChannel } from '../../observability/dashboard/probe.js';
import {
  checkLimit, fingerprint, readDeadLetter, retryHeaders, sourceQueueOf,
  type DeadLetter, type DeadLetterQueue, type DeadLetters, type PeekOptions,
} from '../dead-letters.js';
import type { QueueInfo, QueueLook } from '../queue-look.js';
import { AMQP_HEADERS, deadLetterQueueOf } from './topology.js';

export interface AmqpDeadLettersOptions {
  /** amqp://user:password@host:port/vhost */
  readonly url: string;
  /** The source queues to look at (AMQP cannot list them). */
  readonly queues: () => readonly string[] | Promise<readonly string[]>;
  /** Most messages a retry or discard looks through to find one by id. Default 10000. */
  readonly scanLimit?: number;
}

/** Attempt headers this transport adds; a retried message starts again at attempt 1. */
const ATTEMPT_HEADERS: ReadonlySet<string> = new Set([AMQP_HEADERS.attempt, AMQP_HEADERS.redelivered, 'x-delivery-count', 'x-death']);

export class AmqpDeadLetters implements DeadLetters, QueueLook {
  readonly transport = 'amqp';
  private connection: Promise<ChannelModel> | undefined;

  constructor(private readonly options: AmqpDeadLettersOptions) {}

  async queues(): Promise<DeadLetterQueue[]> {
    const out: DeadLetterQueue[] = [];
    for (const queue of await this.options.queues()) {
      const count = await this.count(deadLetterQueueOf(queue));
      if (count && count.messages > 0) out.push({ queue, deadLetterQueue: deadLetterQueueOf(queue), count: count.messages });
    }
    return out;
  }

  async listQueues(names?: readonly string[]): Promise<QueueInfo[]> {
    const out: QueueInfo[] = [];
    for (const queue of names ?? (await this.options.queues())) {
      const q = await this.count(queue);
      if (!q) continue;
      const dead = await this.count(deadLetterQueueOf(queue));
      out.push({ queue, depth: q.messages, consumers: q.consumers, deadLetters: dead?.messages ?? 0 });
    }
    return out;
  }

  /** The dashboard's probe: depth, consumers and dead letters of the channels that are queues here. */
  probe(): Probe {
    return {
      name: 'amqp',
      probe: async (channels: readonly ProbeChannel[]) => {
        const names = channels.filter((c) => c.kind === undefined || c.kind === 'queue').map((c) => c.name);
        const figures = new Map<string, ChannelFigures>();
        for (const q of await this.listQueues(names)) figures.set(q.queue, { depth: q.depth, consumers: q.consumers ?? 0, deadLetters: q.deadLetters });
        return figures;
      },
    };
  }

  async peek(queue: string, options: PeekOptions = {}): Promise<DeadLetter[]> {
    const limit = checkLimit(options.limit);
    const source = sourceQueueOf(queue);
    return this.withChannel(false, async (channel) => {
      const out: DeadLetter[] = [];
      for (let i = 0; i < limit; i++) {
        const m = await channel.get(deadLetterQueueOf(source), { noAck: false });
        if (!m) break;
        out.push(this.letterOf(source, m));
      }
      return out; // the channel closes: every message goes back, in order
    });
  }

  retry(queue: string, id: string): Promise<boolean> {
    const source = sourceQueueOf(queue);
    return this.withChannel(true, async (channel) => {
      const m = await this.find(channel, source, id);
      if (!m) return false;
      await this.sendBack(channel as ConfirmChannel, source, m);
      return true;
    });
  }

  retryAll(queue: string): Promise<number> {
    const source = sourceQueueOf(queue);
    return this.withChannel(true, async (channel) => {
      const waiting = (await this.count(deadLetterQueueOf(source)))?.messages ?? 0;
      let n = 0;
      // Only what waited when we began: a message dead-lettered again meanwhile stays for a later look.
      for (; n < waiting; n++) {
        const m = await channel.get(deadLetterQueueOf(source), { noAck: false });
        if (!m) break;
        await this.sendBack(channel as ConfirmChannel, source, m);
      }
      return n;
    });
  }

  discard(queue: string, id: string): Promise<boolean> {
    const source = sourceQueueOf(queue);
    return this.withChannel(false, async (channel) => {
      const m = await this.find(channel, source, id);
      if (!m) return false;
      channel.ack(m);
      return true;
    });
  }

  async discardAll(queue: string): Promise<number> {
    const dlq = deadLetterQueueOf(sourceQueueOf(queue));
    return this.withChannel(false, async (channel) => (await channel.purgeQueue(dlq)).messageCount);
  }

  async close(): Promise<void> {
    const connection = await this.connection?.catch(() => undefined);
    this.connection = undefined;
    await connection?.close().catch(() => undefined);
  }

  // ---- internals

  private letterOf(source: string, m: GetMessage): DeadLetter {
    return readDeadLetter(fingerprint(m.content, stringHeaders(m)), source, m.content, stringHeaders(m));
  }

  /** Takes messages until the one with `id` (the others go back when the channel closes). */
  private async find(channel: Channel, source: string, id: string): Promise<GetMessage | undefined> {
    const limit = this.options.scanLimit ?? 10_000;
    for (let i = 0; i < limit; i++) {
      const m = await channel.get(deadLetterQueueOf(source), { noAck: false });
      if (!m) return undefined;
      if (this.letterOf(source, m).id === id) return m;
    }
    return undefined;
  }

  private async sendBack(channel: ConfirmChannel, source: string, m: GetMessage): Promise<void> {
    const letter = this.letterOf(source, m);
    const p = m.properties;
    channel.publish('', letter.source, m.content, {
      persistent: true,
      mandatory: true,
      headers: retryHeaders(letter.headers, ATTEMPT_HEADERS),
      ...(p.contentType ? { contentType: p.contentType as string } : {}),
      ...(p.contentEncoding ? { contentEncoding: p.contentEncoding as string } : {}),
      ...(p.correlationId ? { correlationId: p.correlationId as string } : {}),
      ...(p.messageId ? { messageId: p.messageId as string } : {}),
      ...(p.type ? { type: p.type as string } : {}),
    });
    await channel.waitForConfirms();
    channel.ack(m);
  }

  /** Message count and consumers of a queue, or undefined when it does not exist. */
  private async count(queue: string): Promise<{ messages: number; consumers: number } | undefined> {
    try {
      return await this.withChannel(false, async (channel) => {
        const q = await channel.checkQueue(queue);
        return { messages: q.messageCount, consumers: q.consumerCount };
      });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  /** A channel of its own per operation: a 404 closes a channel in AMQP, and closing hands back what was not acked. */
  private async withChannel<T>(confirm: boolean, fn: (channel: Channel) => Promise<T>): Promise<T> {
    const connection = await this.connect();
    const channel = confirm ? await connection.createConfirmChannel() : await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      return await fn(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  private connect(): Promise<ChannelModel> {
    this.connection ??= loadAmqplib().then(({ connect }) => connect(this.options.url, { noDelay: true })).then((c) => {
      c.on('error', () => undefined);
      return c;
    }).catch((err: Error) => {
      this.connection = undefined;
      throw new errors.SY_ERR_BROKER(`at ${redactUrl(this.options.url)}`, `cannot connect (${err.message}); check the URL, the credentials and that RabbitMQ is running`);
    });
    return this.connection;
  }
}

/** AMQP header values as text (numbers, buffers and tables come back typed). */
function stringHeaders(m: GetMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.properties.headers ?? {})) {
    if (v === undefined || v === null) continue;
    out[k] = Buffer.isBuffer(v) ? v.toString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}
