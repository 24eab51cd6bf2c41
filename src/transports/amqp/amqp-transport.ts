// RabbitMQ through amqplib: durable queues on the default exchange (slingshot's wire:
// routing key = queue, body = the id's decimal text), topics with listener groups on a
// direct exchange, request/reply with direct reply-to. Every publish waits for the
// broker's confirm; consumers ack by hand; the connection recovers by itself (amqplib's
// recovery, with backoff) and consumers come back on new channels.

import type { Channel, ChannelModel, ConsumeMessage, Options, RecoveringChannelModel } from 'amqplib';
import { loadAmqplib } from './amqplib.js';
import { errors, redactUrl } from '../../errors.js';
import { createLogger, type Logger } from '../../observability/logger.js';
import { warnLimiter, type WarnLimiter } from '../../observability/warn-limiter.js';
import { validateName } from '../names.js';
import {
  DEAD_LETTER_HEADERS,
  type Capabilities,
  type ConsumeOptions,
  type DeliveryHandler,
  type OutboundMessage,
  type QueueOptions,
  type Reply,
  type RequestHandler,
  type RequestOptions,
  type Subscription,
  type Transport,
} from '../transport.js';
import { AmqpConsumer, type AmqpDelivery, type Resettler } from './amqp-consumer.js';
import { ConfirmPublisher } from './confirm-publisher.js';
import { MAX_ATTEMPT, republishable } from './redelivery-headers.js';
import {
  AMQP_HEADERS, DEAD_LETTER_EXCHANGE, DIRECT_REPLY_TO, TOPIC_EXCHANGE,
  deadLetterQueueOf, delayQueueOf, delayTierOf, groupQueueOf, queueFlagsError, rpcQueueOf,
} from './topology.js';

export interface AmqpTransportOptions {
  /** amqp://user:password@host:port/vhost — the password never reaches a log line. */
  readonly url: string;
  readonly logger?: Logger;
  /** Reconnect backoff. The first connection gives up after initialMaxRetries. */
  readonly reconnect?: { initialDelayMs?: number; maxDelayMs?: number; initialMaxRetries?: number };
  /** Heartbeat in seconds (detects a dead broker on an idle connection). Default 10. */
  readonly heartbeatSeconds?: number;
  /** How a queue is declared when no options are given. Default durable. */
  readonly queueDefaults?: QueueOptions;
}

export class AmqpTransport implements Transport {
  readonly name = 'amqp';
  readonly capabilities: Capabilities = { queue: true, topic: true, request: true, delayedRequeue: true };

  private connection: RecoveringChannelModel | undefined;
  private publisher: ConfirmPublisher | undefined;
  private readonly log: Logger;
  /** Queues declared by this transport, with their options (declared again after a broker restart). */
  private readonly declared = new Map<string, QueueOptions>();
  private readonly declaring = new Map<string, Promise<void>>();
  private readonly subscriptions = new Set<Subscription>();
  private requester: Promise<{ channel: Channel; pending: Map<string, (reply: Reply | Error) => void> }> | undefined;
  private closed = false;
  private everConnected = false;

  /** Warnings caused by what publishers put in messages: rate-limited per kind. */
  private readonly warnings: WarnLimiter;

  constructor(private readonly options: AmqpTransportOptions) {
    this.log = (options.logger ?? createLogger({ level: 'info' })).child({ transport: 'amqp', broker: redactUrl(options.url) });
    this.warnings = warnLimiter(this.log);
  }

  async start(): Promise<void> {
    const { reconnect = {} } = this.options;
    const url = withHeartbeat(this.options.url, this.options.heartbeatSeconds ?? 10);
    const { connect } = await loadAmqplib();
    try {
      this.connection = await connect(url, {
        noDelay: true, // without it every round trip stalls ~40 ms on Nagle's algorithm
        recovery: {
          initialDelay: reconnect.initialDelayMs ?? 200,
          maxDelay: reconnect.maxDelayMs ?? 5_000,
          maxRetries: Infinity,
          initialMaxRetries: reconnect.initialMaxRetries ?? 5,
          setup: async (model: ChannelModel) => {
            // After a broker restart non-durable queues are gone: declare what we declared before.
            if (!this.everConnected) return;
            await this.declareTopology(model);
          },
        },
      });
    } catch (err) {
      throw new errors.SY_ERR_BROKER(`at ${redactUrl(this.options.url)}`, `cannot connect (${(err as Error).message}); check the URL, the credentials and that RabbitMQ is running`);
    }
    this.everConnected = true;
    const connection = this.connection;
    connection.on('error', (err: Error) => this.log.warn({ err: err.message }, 'broker connection error'));
    connection.on('disconnect', (err: Error) => {
      if (!this.closed) this.log.warn({ err: err.message }, 'disconnected from the broker; reconnecting with backoff');
    });
    connection.on('reconnect-scheduled', ({ attempt, delay }: { attempt: number; delay: number }) => this.log.info({ attempt, delayMs: delay }, 'reconnect scheduled'));
    connection.on('connect', () => {
      if (!this.closed) this.log.info('connected to the broker');
    });
    connection.on('handler-error', (err: Error, event: string) => this.log.error({ err, event }, 'an amqp event handler threw'));
    this.publisher = new ConfirmPublisher(connection);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.closed = true;
    await this.publisher?.close();
    const requester = await this.requester?.catch(() => undefined);
    await requester?.channel.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
    this.warnings.flush();
  }

  // ---- durable queue

  async declareQueue(queue: string, options: QueueOptions = {}): Promise<void> {
    validateName('queue', queue);
    const effective = { ...this.options.queueDefaults, ...options };
    const model = this.open();
    if (effective.useExisting) await this.useOrDeclare(model, queue, effective);
    else await onChannel(model, (channel) => this.assertQueue(channel, queue, effective));
    this.declared.set(queue, effective);
  }

  /**
   * useExisting: a queue that exists is taken as it is (a passive declare, which never
   * compares flags); a missing one is declared with the options. If another client
   * declares it with other flags between the two steps, theirs stand and it is used as it is.
   */
  private async useOrDeclare(model: ChannelMaker, queue: string, options: QueueOptions): Promise<void> {
    const exists = () => onChannel(model, (channel) => channel.checkQueue(queue).then(() => true), { notFound: false });
    if (!(await exists())) {
      try {
        await onChannel(model, (channel) => channel.assertQueue(queue, { durable: options.durable ?? true, ...(options.arguments ? { arguments: options.arguments } : {}) }));
      } catch (err) {
        if (!isPreconditionFailed(err) || !(await exists())) throw err;
      }
    }
    await onChannel(model, (channel) => this.declareDeadLetter(channel, queue));
  }

  send(queue: string, message: OutboundMessage): Promise<void> {
    // The hot path of every worker result: no async layers once the queue is known.
    if (!this.declared.has(queue)) return this.sendToNewQueue(queue, message);
    return this.publishTo('', queue, message.body, message.headers ? { persistent: true, mandatory: true, headers: message.headers } : SEND_OPTIONS);
  }

  private async sendToNewQueue(queue: string, message: OutboundMessage): Promise<void> {
    validateName('queue', queue);
    await this.ensureQueue(queue);
    await this.publishTo('', queue, message.body, message.headers ? { persistent: true, mandatory: true, headers: message.headers } : SEND_OPTIONS);
  }

  async consume(queue: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
    validateName('queue', queue);
    checkPrefetch(options.prefetch);
    await this.ensureQueue(queue);
    return this.startConsumer(queue, handler, options.prefetch);
  }

  // ---- topic with listener groups

  async publish(topic: string, message: OutboundMessage): Promise<void> {
    validateName('topic', topic);
    await this.ensureTopicExchange();
    await this.publishTo(TOPIC_EXCHANGE, topic, message.body, { persistent: true, ...(message.headers ? { headers: message.headers } : {}) });
  }

  async subscribe(topic: string, group: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
    validateName('topic', topic);
    validateName('listener group', group);
    checkPrefetch(options.prefetch);
    await this.ensureTopicExchange();
    const queue = groupQueueOf(topic, group);
    await this.declareQueue(queue, { durable: true });
    await this.withChannel((channel) => channel.bindQueue(queue, TOPIC_EXCHANGE, topic));
    return this.startConsumer(queue, handler, options.prefetch);
  }

  // ---- request/reply

  async request(subject: string, message: OutboundMessage, options: RequestOptions): Promise<Reply> {
    validateName('subject', subject);
    if (!(options.timeoutMs > 0)) throw new errors.SY_ERR_USAGE(`request to "${subject}": timeoutMs must be a positive number of milliseconds, got ${options.timeoutMs}`);
    const { channel, pending } = await this.openRequester();
    const correlationId = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(correlationId);
        reject(new errors.SY_ERR_REQUEST_TIMEOUT(subject, options.timeoutMs));
      }, options.timeoutMs);
      pending.set(correlationId, (reply) => {
        clearTimeout(timer);
        pending.delete(correlationId);
        if (reply instanceof Error) reject(reply);
        else if (reply.headers[AMQP_HEADERS.error] !== undefined) reject(new errors.SY_ERR_REMOTE(subject, reply.headers[AMQP_HEADERS.error]!));
        else resolve(reply);
      });
      try {
        channel.publish('', rpcQueueOf(subject), Buffer.from(message.body), {
          replyTo: DIRECT_REPLY_TO,
          correlationId,
          mandatory: true, // no responder queue → returned at once
          expiration: String(Math.ceil(options.timeoutMs)),
          headers: { ...message.headers, ...options.headers },
        });
      } catch (err) {
        pending.get(correlationId)?.(new errors.SY_ERR_BROKER(`request to "${subject}"`, (err as Error).message));
      }
    });
  }

  async serve(subject: string, handler: RequestHandler): Promise<Subscription> {
    validateName('subject', subject);
    const queue = rpcQueueOf(subject);
    // Not durable and removed with its last responder: a request to nobody is returned at once.
    await this.withChannel((channel) => channel.assertQueue(queue, { durable: false, autoDelete: true }).then(() => undefined));
    return this.startConsumer(queue, async (delivery) => {
      let reply: OutboundMessage;
      try {
        reply = await handler({ body: delivery.body, headers: delivery.headers });
      } catch (err) {
        reply = { body: Buffer.alloc(0), headers: { [AMQP_HEADERS.error]: (err as Error).message ?? String(err) } };
      }
      const { replyTo: to, correlationId } = (delivery as AmqpDelivery).properties;
      if (to) await this.publishTo('', to as string, reply.body, { correlationId, ...(reply.headers ? { headers: reply.headers } : {}) });
      await delivery.ack();
    }, 16);
  }

  // ---- internals

  private async startConsumer(queue: string, handler: DeliveryHandler, prefetch: number): Promise<Subscription> {
    if (this.closed) throw new errors.SY_ERR_TRANSPORT_CLOSED(this.name, 'consume');
    const consumer = new AmqpConsumer(this.open(), queue, handler, prefetch, this.resettler, this.log);
    await consumer.start();
    this.subscriptions.add(consumer);
    return {
      stop: async (options) => {
        await consumer.stop(options);
        this.subscriptions.delete(consumer);
      },
    };
  }

  private readonly resettler: Resettler = {
    retry: async (queue, message, attempt, delayMs) => {
      const ours = { [AMQP_HEADERS.attempt]: Math.min(attempt + 1, MAX_ATTEMPT), [AMQP_HEADERS.redelivered]: '1' };
      const target = delayMs > 0 ? await this.ensureDelayQueue(queue, delayTierOf(delayMs)) : queue;
      // mandatory: if the delay queue vanished, the retry fails loudly instead of being dropped.
      await this.republish('', target, message, ours);
    },
    deadLetter: async (queue, message, attempt, reason) => {
      await this.ensureDeadLetter(queue);
      const ours = {
        [DEAD_LETTER_HEADERS.reason]: reason,
        [DEAD_LETTER_HEADERS.sourceQueue]: queue,
        [DEAD_LETTER_HEADERS.attempts]: String(attempt),
      };
      await this.republish(DEAD_LETTER_EXCHANGE, queue, message, ours);
    },
  };

  /**
   * A consumed message published again (a retry or a dead letter) with the peer's headers
   * made encodable plus ours. Should the peer's headers still not go (too large once ours
   * are added), it goes with ours alone rather than not at all.
   */
  private async republish(exchange: string, routingKey: string, message: ConsumeMessage, ours: Record<string, unknown>): Promise<void> {
    const peer = republishable(message.properties.headers);
    delete peer['x-delivery-count']; // the broker's count of the old message, not of this one
    const properties = { ...republishProperties(message), mandatory: true };
    try {
      await this.publishTo(exchange, routingKey, message.content, { ...properties, headers: { ...peer, ...ours } });
    } catch (err) {
      if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
      this.warnings.warn('republish-headers', { queue: routingKey, err: err.message }, 'a message\'s own headers could not be sent again; republished with Switchyard\'s headers only');
      await this.publishTo(exchange, routingKey, message.content, { ...properties, headers: ours });
    }
  }

  private publishTo(exchange: string, routingKey: string, body: Uint8Array, options: Options.Publish): Promise<void> {
    if (this.closed || !this.publisher) return Promise.reject(new errors.SY_ERR_TRANSPORT_CLOSED(this.name, 'publish'));
    return this.publisher.publish(exchange, routingKey, Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength), options);
  }

  /** A queue we did not declare: use it as it is if it exists, else declare it with the defaults. */
  private ensureQueue(queue: string): Promise<void> {
    if (this.declared.has(queue)) return Promise.resolve();
    let pending = this.declaring.get(queue);
    if (!pending) {
      pending = (async () => {
        const exists = await this.withChannel((channel) => channel.checkQueue(queue).then(() => true), { notFound: false });
        // Found as it is: after a broker restart it is checked again the same way.
        if (exists) this.declared.set(queue, { ...this.options.queueDefaults, useExisting: true });
        else await this.declareQueue(queue, {});
      })().finally(() => this.declaring.delete(queue));
      this.declaring.set(queue, pending);
    }
    return pending;
  }

  private async assertQueue(channel: Channel, queue: string, options: QueueOptions): Promise<void> {
    try {
      await channel.assertQueue(queue, { durable: options.durable ?? true, ...(options.arguments ? { arguments: options.arguments } : {}) });
    } catch (err) {
      if (isPreconditionFailed(err)) throw queueFlagsError(queue, (err as Error).message);
      throw err;
    }
    await this.declareDeadLetter(channel, queue);
  }

  private async declareDeadLetter(channel: Channel, queue: string): Promise<void> {
    await channel.assertExchange(DEAD_LETTER_EXCHANGE, 'direct', { durable: true });
    await channel.assertQueue(deadLetterQueueOf(queue), { durable: true });
    await channel.bindQueue(deadLetterQueueOf(queue), DEAD_LETTER_EXCHANGE, queue);
  }

  private readonly deadLetterReady = new Set<string>();
  private async ensureDeadLetter(queue: string): Promise<void> {
    if (this.deadLetterReady.has(queue)) return;
    await this.withChannel((channel) => this.declareDeadLetter(channel, queue));
    this.deadLetterReady.add(queue);
  }

  private readonly delayReady = new Set<string>();
  private async ensureDelayQueue(queue: string, tierMs: number): Promise<string> {
    const name = delayQueueOf(queue, tierMs);
    if (!this.delayReady.has(name)) {
      await this.withChannel((channel) => channel.assertQueue(name, {
        durable: true,
        arguments: { 'x-message-ttl': tierMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue },
      }).then(() => undefined));
      this.delayReady.add(name);
    }
    return name;
  }

  private topicExchangeReady = false;
  private async ensureTopicExchange(): Promise<void> {
    if (this.topicExchangeReady) return;
    await this.withChannel((channel) => channel.assertExchange(TOPIC_EXCHANGE, 'direct', { durable: true }).then(() => undefined));
    this.topicExchangeReady = true;
  }

  /** Everything declared so far, again (after a broker restart took non-durable queues). */
  private async declareTopology(model: ChannelModel): Promise<void> {
    for (const [queue, options] of this.declared) {
      // A queue used as it was found and gone after the restart was not durable: declared
      // again with the options (slingshot's flags), as a slingshot service would.
      if (options.useExisting) await this.useOrDeclare(model, queue, options);
      else await onChannel(model, (channel) => this.assertQueue(channel, queue, options));
    }
    this.delayReady.clear();
    this.deadLetterReady.clear();
    this.topicExchangeReady = false;
  }

  private withChannel<T>(fn: (channel: Channel) => Promise<T>, handle?: { notFound: T }): Promise<T> {
    return onChannel(this.open(), fn, handle);
  }

  private openRequester(): Promise<{ channel: Channel; pending: Map<string, (reply: Reply | Error) => void> }> {
    this.requester ??= (async () => {
      const channel = await this.open().createChannel();
      const pending = new Map<string, (reply: Reply | Error) => void>();
      channel.on('error', () => undefined);
      channel.on('close', () => {
        this.requester = undefined;
        for (const settle of pending.values()) settle(new errors.SY_ERR_BROKER('request', 'the channel closed before a reply came; try again'));
      });
      channel.on('return', (message: ConsumeMessage) => {
        const subject = message.fields.routingKey.slice('switchyard.rpc.'.length);
        pending.get(message.properties.correlationId as string)?.(new errors.SY_ERR_NO_RESPONDER(subject));
      });
      // Direct reply-to: the broker routes replies straight to this consumer, no queue needed.
      await channel.consume(DIRECT_REPLY_TO, (message) => {
        if (!message) return;
        pending.get(message.properties.correlationId as string)?.({ body: message.content, headers: stringHeadersOf(message) });
      }, { noAck: true });
      return { channel, pending };
    })().catch((err: unknown) => {
      this.requester = undefined;
      throw err;
    });
    return this.requester;
  }

  private open(): RecoveringChannelModel {
    if (!this.connection || this.closed) throw new errors.SY_ERR_TRANSPORT_CLOSED(this.name, 'use the broker');
    return this.connection;
  }
}

/** Shared, never mutated: amqplib only reads publish options. */
const SEND_OPTIONS: Options.Publish = Object.freeze({ persistent: true, mandatory: true });

function republishProperties(message: ConsumeMessage): Options.Publish {
  const p = message.properties;
  return {
    persistent: true,
    ...(p.contentType ? { contentType: p.contentType as string } : {}),
    ...(p.contentEncoding ? { contentEncoding: p.contentEncoding as string } : {}),
    ...(p.correlationId ? { correlationId: p.correlationId as string } : {}),
    ...(p.replyTo ? { replyTo: p.replyTo as string } : {}),
    ...(p.type ? { type: p.type as string } : {}),
  };
}

function stringHeadersOf(message: ConsumeMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.properties.headers ?? {})) if (v !== undefined && v !== null) out[k] = Buffer.isBuffer(v) ? v.toString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return out;
}

/** What makes channels: the recovering connection, or the raw one its setup hook gets. */
type ChannelMaker = Pick<ChannelModel, 'createChannel'>;

/**
 * Runs `fn` on a short-lived channel. A failed declaration closes its channel in AMQP,
 * so these never share a channel with publishing or consuming. With notFound, a 404
 * answers that value instead of failing.
 */
async function onChannel<T>(model: ChannelMaker, fn: (channel: Channel) => Promise<T>, handle?: { notFound: T }): Promise<T> {
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  try {
    return await fn(channel);
  } catch (err) {
    if (handle && (err as { code?: number }).code === 404) return handle.notFound;
    throw err;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

function isPreconditionFailed(err: unknown): boolean {
  return (err as { code?: number }).code === 406;
}

function checkPrefetch(prefetch: number): void {
  if (!Number.isInteger(prefetch) || prefetch < 1 || prefetch > 65535) {
    throw new errors.SY_ERR_USAGE(`prefetch must be an integer from 1 to 65535 (deliveries in flight at once), got ${prefetch}`);
  }
}

function withHeartbeat(url: string, seconds: number): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}heartbeat=${seconds}`;
}
