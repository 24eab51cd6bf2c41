// Redis (7.0 or later) through ioredis: durable queues and topics with listener groups on
// Redis Streams with consumer groups (queue-consumer.ts on stream-consumer.ts), request/reply on lists
// (redis-rpc.ts). Key names: names.ts.
//
// Connections: one for commands (sends, acks, scripts; auto-pipelined, so the acks and
// sends of one tick go out in one write), and one of its own per blocking reader (each
// consumer, each responder, each waiting request) because a blocked connection can do
// nothing else. ioredis reconnects them all with backoff; a blocked read in flight is sent
// again on the new connection; close() closes every one.
//
// Durability is the server's: run Redis with appendonly yes (appendfsync everysec or
// always) for queues that must survive a Redis restart. Queue options `durable` and
// `arguments` have no meaning on Redis and are ignored.

import type { Redis, RedisOptions } from 'ioredis';
import { errors } from '../../errors.js';
import { createLogger, type Logger } from '../../observability/logger.js';
import { validateName } from '../names.js';
import {
  deadLetterQueueOf,
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
import { RedisConnections, STOP_GRACE_MS, closeConnection, unlessStopped, unrefSleep } from './connection.js';
import { entryFields } from './entry.js';
import { GROUP_OF_QUEUE, RedisNames, groupQueueOf } from './names.js';
import { startQueueConsumer, type QueueConsumerSettings, type QueuePlan } from './queue-consumer.js';
import { reclaimIntervalFor, type ConsumerHost, type Source } from './stream-consumer.js';
import { Batcher, pipelineErrors } from './batcher.js';
import { Responder } from './redis-responder.js';
import { Requester, type ListPush, type RpcHost } from './redis-rpc.js';
import { withScripts, type ScriptedPipeline, type ScriptedRedis } from './scripts.js';

export interface RedisTransportOptions {
  /** redis://[user:password@]host:port[/db] (or rediss://). The password never reaches a log line. Default redis://127.0.0.1:6379. */
  readonly url?: string;
  readonly logger?: Logger;
  /** Prefix of every key this transport touches. Default "sy:". */
  readonly keyPrefix?: string;
  /** How long one blocking read waits before it is issued again (stop() ends it at once). Default 5000. */
  readonly blockMs?: number;
  /** An entry held this long by a consumer that does not refresh it (it died) is taken over by a live one. Default 30000. */
  readonly reclaimIdleMs?: number;
  /** How often consumers look for such entries. Default reclaimIdleMs / 2, at most 5000. */
  readonly reclaimIntervalMs?: number;
  /** How often consumers move due delayed requeues back to their queue (ten times less often while none wait). Default 100. */
  readonly delayPollMs?: number;
  /** Topic streams are trimmed to about this many entries (XADD MAXLEN ~): a group further behind loses the oldest. Default 100000. */
  readonly topicMaxLength?: number;
  /** Requests one responder handles at once. Default 16. */
  readonly serveConcurrency?: number;
  /** Requests of this transport waiting for replies at once (each holds a blocking connection); more wait their turn within their timeout. Default 256. */
  readonly maxWaitingRequests?: number;
  /** Extra ioredis options (TLS, timeouts, ...), applied to every connection. */
  readonly redis?: RedisOptions;
}

export class RedisTransport implements Transport {
  readonly name = 'redis';
  readonly capabilities: Capabilities = { queue: true, topic: true, request: true, delayedRequeue: true };

  private commands: (Redis & ScriptedRedis) | undefined;
  /** Request/reply's own command connection, not auto-pipelined: one call's latency over batching. */
  private rpcCommands: Redis | undefined;
  private requester: Requester | undefined;
  private readonly connections: RedisConnections;
  private readonly subscriptions = new Set<Subscription>();
  private readonly groups = new Set<string>();
  private readonly log: Logger;
  private readonly url: string;
  private readonly names: RedisNames;
  private readonly settings: QueueConsumerSettings & { topicMaxLength: number; serveConcurrency: number; maxWaitingRequests: number };
  private closed = false;
  private started = false;
  /** What consumers and responders use of the transport. */
  private readonly consumerHost: ConsumerHost;
  private readonly rpcHost: RpcHost;

  constructor(options: RedisTransportOptions = {}) {
    this.url = options.url ?? 'redis://127.0.0.1:6379';
    const logger = options.logger ?? createLogger({ level: 'info' });
    this.connections = new RedisConnections({ url: this.url, logger: logger.child({ transport: 'redis' }), ...(options.redis ? { redis: options.redis } : {}) });
    this.log = logger.child({ transport: 'redis', server: this.connections.where });
    this.names = new RedisNames(options.keyPrefix);
    const reclaimIdleMs = positive('reclaimIdleMs', options.reclaimIdleMs ?? 30_000);
    this.settings = {
      blockMs: positive('blockMs', options.blockMs ?? 5_000),
      reclaimIdleMs,
      reclaimIntervalMs: positive('reclaimIntervalMs', options.reclaimIntervalMs ?? reclaimIntervalFor(reclaimIdleMs)),
      delayPollMs: positive('delayPollMs', options.delayPollMs ?? 100),
      topicMaxLength: positive('topicMaxLength', options.topicMaxLength ?? 100_000),
      serveConcurrency: positive('serveConcurrency', options.serveConcurrency ?? 16),
      maxWaitingRequests: positive('maxWaitingRequests', options.maxWaitingRequests ?? 256),
    };
    const transport = this;
    // Consumers and responders exist only once started. After close() their commands fail
    // as rejected promises (ioredis: connection closed), never by throwing where they
    // are issued, inside timers and background steps.
    this.consumerHost = {
      get commands() {
        return transport.commands!;
      },
      openReader: (purpose) => this.openReader(purpose),
      ensureGroup: (stream, group, startAt, force) => this.ensureGroup(stream, group, startAt, force),
      log: this.log,
    };
    this.rpcHost = {
      get commands() {
        return transport.rpcCommands!;
      },
      openReader: (purpose) => this.openReader(purpose),
      // Request and reply pushes of one burst in one pipeline; each push fails alone.
      pushes: new Batcher<ListPush>((pushes) => {
        const pipeline = transport.rpcCommands!.pipeline() as unknown as ScriptedPipeline;
        for (const p of pushes) pipeline.syPush(p.list, p.frame, p.ttlMs);
        return pipeline.exec().then((results) => pipelineErrors(results, pushes.length));
      }),
      names: this.names,
      log: this.log,
      blockMs: this.settings.blockMs,
      maxWaitingRequests: this.settings.maxWaitingRequests,
    };
  }

  async start(): Promise<void> {
    if (this.started) return;
    const commands = withScripts(await this.connections.connect('queue-commands', 'commands'));
    try {
      const version = /redis_version:(\S+)/.exec(await commands.info('server'))?.[1] ?? 'unknown';
      if (!(Number(version.split('.')[0]) >= 7)) throw new errors.SY_ERR_REDIS_VERSION(this.connections.where, version);
    } catch (err) {
      commands.disconnect();
      if ((err as { code?: string }).code === 'SY_ERR_REDIS_VERSION') throw err;
      throw this.connections.unreachable(err);
    }
    commands.on('ready', () => {
      // Groups may be gone with a Redis that lost its data: check them again when used.
      if (!this.closed) this.groups.clear();
    });
    this.commands = commands;
    // Auto-pipelining holds each command back a turn of the event loop to batch it with
    // others: right for queues under load, but request/reply at one call at a time was
    // measured ~40% slower with it. Request/reply gets a connection without it, and batches
    // the pushes of one burst of microtasks itself (batcher.ts).
    this.rpcCommands = withScripts(await this.connections.connect('rpc-commands', 'direct').catch((err: Error) => {
      commands.disconnect();
      throw err;
    }));
    this.requester = new Requester(this.rpcHost);
    this.started = true;
    this.spare = this.connectReader('spare reader');
    this.spare.catch(() => undefined);
  }

  private closing: Promise<void> | undefined;

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.closed = true;
    this.requester?.close();
    // The spare reader finishes connecting (bounded: Redis may be down), then readers (and
    // anything else still open) are disconnected: a blocked read ends at once.
    await unlessStopped(this.spare?.then(() => undefined, () => undefined) ?? Promise.resolve(), unrefSleep(STOP_GRACE_MS));
    const quitting = [this.commands, this.rpcCommands].filter((c): c is Redis & ScriptedRedis => c !== undefined);
    this.connections.closeAll(quitting);
    // QUIT is never auto-pipelined: the commands of this turn leave first (a turn later),
    // then QUIT, unless Redis does not answer within a short grace.
    await new Promise((r) => setImmediate(r));
    await Promise.all(quitting.map(closeConnection));
  }

  // ---- durable queue

  async declareQueue(queue: string, _options?: QueueOptions): Promise<void> {
    validateName('queue', queue);
    await this.ensureGroup(this.names.queueStream(queue), GROUP_OF_QUEUE, '0');
    await this.ensureGroup(this.names.queueStream(deadLetterQueueOf(queue)), GROUP_OF_QUEUE, '0');
  }

  async send(queue: string, message: OutboundMessage): Promise<void> {
    validateName('queue', queue);
    // No group needed yet: a group created later starts at '0' and sees what waits.
    await this.open('send').xadd(this.names.queueStream(queue), '*', ...entryFields(message.body, message.headers))
      .catch((err: Error) => { throw notStored(`send to queue "${queue}"`, err); });
  }

  async consume(queue: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
    validateName('queue', queue);
    checkPrefetch(options.prefetch);
    const stream = this.names.queueStream(queue);
    const plan: QueuePlan = {
      queue,
      group: GROUP_OF_QUEUE,
      sources: [{ stream, deleteOnAck: true, startAt: '0' }],
      home: this.homeOf(queue),
      deadLetterStream: this.names.queueStream(deadLetterQueueOf(queue)),
    };
    return this.startConsumer(plan, handler, options.prefetch);
  }

  // ---- topic with listener groups

  async publish(topic: string, message: OutboundMessage): Promise<void> {
    validateName('topic', topic);
    // One XADD: every group that exists now sees the entry; MAXLEN ~ keeps the stream bounded.
    await this.open('publish').xadd(this.names.topicStream(topic), 'MAXLEN', '~', this.settings.topicMaxLength, '*', ...entryFields(message.body, message.headers))
      .catch((err: Error) => { throw notStored(`publish to topic "${topic}"`, err); });
  }

  async subscribe(topic: string, group: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
    validateName('topic', topic);
    validateName('listener group', group);
    checkPrefetch(options.prefetch);
    const groupQueue = groupQueueOf(topic, group);
    const sources: Source[] = [
      { stream: this.names.topicStream(topic), deleteOnAck: false, startAt: '$' },
      { stream: this.names.queueStream(groupQueue), deleteOnAck: true, startAt: '0' },
    ];
    const plan: QueuePlan = {
      queue: groupQueue,
      group,
      sources,
      home: this.homeOf(groupQueue),
      deadLetterStream: this.names.queueStream(deadLetterQueueOf(groupQueue)),
    };
    return this.startConsumer(plan, handler, options.prefetch);
  }

  // ---- request/reply

  async request(subject: string, message: OutboundMessage, options: RequestOptions): Promise<Reply> {
    validateName('subject', subject);
    if (!(options.timeoutMs > 0)) throw new errors.SY_ERR_USAGE(`request to "${subject}": timeoutMs must be a positive number of milliseconds, got ${options.timeoutMs}`);
    this.open('request');
    return this.requester!.request(subject, message, options);
  }

  async serve(subject: string, handler: RequestHandler): Promise<Subscription> {
    validateName('subject', subject);
    this.open('serve');
    const responder = new Responder(this.rpcHost, subject, handler, this.settings.serveConcurrency);
    await responder.start();
    return this.trackStarted(responder, 'serve');
  }

  // ---- internals

  private async startConsumer(plan: QueuePlan, handler: DeliveryHandler, prefetch: number): Promise<Subscription> {
    this.open('consume');
    for (const source of plan.sources) await this.ensureGroup(source.stream, plan.group, source.startAt);
    return this.trackStarted(await startQueueConsumer(this.consumerHost, plan, handler, prefetch, this.settings), 'consume');
  }

  /** A subscription that finished starting while close() ran is stopped, not left running. */
  private async trackStarted(subscription: Subscription, op: string): Promise<Subscription> {
    if (this.closing) {
      await subscription.stop();
      throw new errors.SY_ERR_TRANSPORT_CLOSED(this.name, op);
    }
    return this.track(subscription);
  }

  private track(subscription: Subscription): Subscription {
    this.subscriptions.add(subscription);
    return {
      // Forgotten only once drained, so a close() meanwhile waits for the drain too.
      stop: async (options) => {
        await subscription.stop(options);
        this.subscriptions.delete(subscription);
      },
    };
  }

  private homeOf(queue: string): QueuePlan['home'] {
    return { stream: this.names.queueStream(queue), delayedSet: this.names.delayedSet(queue), delayedData: this.names.delayedData(queue) };
  }

  /** XGROUP CREATE ... MKSTREAM, once per stream and group (again with force, or after a reconnect). */
  private async ensureGroup(stream: string, group: string, startAt: '0' | '$', force = false): Promise<void> {
    const key = `${stream}\u0000${group}`;
    if (!force && this.groups.has(key)) return;
    try {
      await this.open('create a consumer group').xgroup('CREATE', stream, group, startAt, 'MKSTREAM');
    } catch (err) {
      const message = (err as Error).message;
      if (/WRONGTYPE/.test(message)) {
        throw new errors.SY_ERR_BROKER(`key "${stream}"`, 'it exists and is not a stream; another program uses the same key: give this transport a keyPrefix of its own');
      }
      if (!/BUSYGROUP/.test(message)) throw new errors.SY_ERR_BROKER(`creating consumer group "${group}" on "${stream}"`, message);
    }
    this.groups.add(key);
  }

  /**
   * A connection of its own for blocking reads: waits out outages (no retry limit), closed
   * by close(). One is kept opened ahead, so that consume() and serve() start without a
   * connection set-up on their path.
   */
  private async openReader(purpose: string): Promise<Redis> {
    const spare = this.spare;
    this.spare = undefined;
    const reader = (await spare?.catch(() => undefined)) ?? (await this.connectReader(purpose));
    if (!this.closed) this.spare = this.connectReader('spare reader');
    this.spare?.catch(() => undefined);
    return reader;
  }

  private spare: Promise<Redis> | undefined;

  private async connectReader(purpose: string): Promise<Redis> {
    if (this.closed) throw new errors.SY_ERR_TRANSPORT_CLOSED(this.name, 'open a connection');
    const reader = await this.connections.connect('reader', 'blocking');
    this.log.debug({ purpose }, 'opened a reader connection');
    if (this.closed) reader.disconnect();
    return reader;
  }

  private open(op: string): Redis & ScriptedRedis {
    if (this.closed || !this.commands) throw new errors.SY_ERR_TRANSPORT_CLOSED(this.name, op);
    return this.commands;
  }
}

function notStored(what: string, err: Error): Error {
  return new errors.SY_ERR_BROKER(what, `Redis did not confirm it (${err.message}); it may or may not be stored: send it again (a duplicate at worst) once Redis is reachable`);
}

function positive(option: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new errors.SY_ERR_REDIS_OPTION(option, String(value), 'a positive number');
  return value;
}

function checkPrefetch(prefetch: number): void {
  if (!Number.isInteger(prefetch) || prefetch < 1) {
    throw new errors.SY_ERR_USAGE(`prefetch must be an integer ≥ 1 (deliveries in flight at once), got ${prefetch}`);
  }
}
