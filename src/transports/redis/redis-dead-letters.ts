// Dead letters on the generic Redis transport: each queue's dead letters are the stream
// {prefix}q:{queue}.dead-letter (names.ts), entries laid out as entry.ts says. A retry is
// one Lua step: the entry is deleted from the dead-letter stream and added to its source
// queue's stream together, or not at all (two tools retrying the same letter send it once).
// Also the look at queues for `switchyard queues` and the dashboard's probe: depth (entries
// not yet delivered), consumers and, for listener groups on topics, their lag.

import type { Redis, RedisOptions } from 'ioredis';
import { createLogger, type Logger } from '../../observability/logger.js';
import type { ChannelFigures, Probe, ProbeChannel } from '../../observability/dashboard/probe.js';
import {
  checkLimit, readDeadLetter, retryHeaders, sourceQueueOf,
  type DeadLetter, type DeadLetterQueue, type DeadLetters, type PeekOptions,
} from '../dead-letters.js';
import type { QueueInfo, QueueLook } from '../queue-look.js';
import { deadLetterQueueOf } from '../transport.js';
import { RedisConnections } from './connection.js';
import { entryFields, parseEntry } from './entry.js';
import { DEFAULT_KEY_PREFIX, GROUP_OF_QUEUE, RedisNames } from './names.js';

export interface RedisDeadLettersOptions {
  /** redis://[user:password@]host:port[/db]. Default redis://127.0.0.1:6379. */
  readonly url?: string;
  /** The transport's key prefix. Default "sy:". */
  readonly keyPrefix?: string;
  readonly redis?: RedisOptions;
  /** Where connection trouble is logged. Default: nowhere (the tools report errors themselves). */
  readonly logger?: Logger;
}

/** KEYS: dead-letter stream, target stream. ARGV: id, field, value, ... — moves it only if it is still there. */
const MOVE_BACK = `
if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
return 1`;

/** Most keys one listing looks through (SCAN), so a huge keyspace cannot hold a look forever. */
const SCAN_LIMIT = 100_000;
const PAGE = 100;

type RedisWithMove = Redis & { syMoveBack(dlq: string, target: string, id: string, ...fields: Array<string | Buffer>): Promise<number> };

export class RedisDeadLetters implements DeadLetters, QueueLook {
  readonly transport = 'redis';
  private readonly names: RedisNames;
  private readonly url: string;
  private client: RedisWithMove | undefined;

  constructor(private readonly options: RedisDeadLettersOptions = {}) {
    this.url = options.url ?? 'redis://127.0.0.1:6379';
    this.names = new RedisNames(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
  }

  async queues(): Promise<DeadLetterQueue[]> {
    const redis = await this.connect();
    const suffix = deadLetterQueueOf('');
    const out: DeadLetterQueue[] = [];
    for (const key of await this.scan(`${this.names.queueStream('')}*${suffix}`)) {
      const dlq = key.slice(this.names.queueStream('').length);
      const count = await redis.xlen(key);
      if (count > 0) out.push({ queue: sourceQueueOf(dlq), deadLetterQueue: dlq, count });
    }
    return out.sort((a, b) => (a.queue < b.queue ? -1 : 1));
  }

  async listQueues(names?: readonly string[]): Promise<QueueInfo[]> {
    const redis = await this.connect();
    const prefix = this.names.queueStream('');
    const suffix = deadLetterQueueOf('');
    const queues = names ?? (await this.scan(`${prefix}*`)).map((k) => k.slice(prefix.length)).filter((q) => !q.endsWith(suffix));
    const out: QueueInfo[] = [];
    for (const queue of [...queues].sort()) {
      const stream = this.names.queueStream(queue);
      const length = await redis.xlen(stream);
      const group = (await this.groups(stream)).find((g) => g.name === GROUP_OF_QUEUE);
      if (length === 0 && !group) continue; // no such queue
      const deadLetters = await redis.xlen(this.names.queueStream(deadLetterQueueOf(queue)));
      // Queue entries are deleted when acked: what is in the stream and not pending waits.
      out.push({ queue, depth: Math.max(0, length - (group?.pending ?? 0)), ...(group ? { consumers: group.consumers } : {}), deadLetters });
    }
    if (!names) {
      // Listener groups on topics: how far each is behind.
      const topicPrefix = this.names.topicStream('');
      for (const key of (await this.scan(`${topicPrefix}*`)).sort()) {
        for (const g of await this.groups(key)) {
          out.push({ queue: `${key.slice(topicPrefix.length)} (group ${g.name})`, depth: g.lag ?? 0, consumers: g.consumers, ...(g.lag !== undefined ? { lag: g.lag } : {}), deadLetters: 0 });
        }
      }
    }
    return out;
  }

  /** The dashboard's probe: depth, consumers and dead letters of the channels that are queues here. */
  probe(): Probe {
    return {
      name: 'redis',
      probe: async (channels: readonly ProbeChannel[]) => {
        const names = channels.filter((c) => c.kind === undefined || c.kind === 'queue').map((c) => c.name);
        const figures = new Map<string, ChannelFigures>();
        for (const q of await this.listQueues(names)) figures.set(q.queue, { depth: q.depth, ...(q.consumers !== undefined ? { consumers: q.consumers } : {}), deadLetters: q.deadLetters });
        // Topics: the listener group furthest behind, and every group's consumers.
        await this.connect();
        for (const c of channels.filter((ch) => ch.kind === 'topic' || ch.kind === 'event')) {
          const groups = await this.groups(this.names.topicStream(c.name));
          if (groups.length === 0) continue;
          const lags = groups.map((g) => g.lag).filter((l): l is number => l !== undefined);
          figures.set(c.name, { consumers: groups.reduce((n, g) => n + g.consumers, 0), ...(lags.length > 0 ? { lag: Math.max(...lags) } : {}) });
        }
        return figures;
      },
    };
  }

  async peek(queue: string, options: PeekOptions = {}): Promise<DeadLetter[]> {
    const limit = checkLimit(options.limit);
    const source = sourceQueueOf(queue);
    const redis = await this.connect();
    const entries = await redis.xrangeBuffer(this.names.queueStream(deadLetterQueueOf(source)), '-', '+', 'COUNT', limit);
    return entries.flatMap(([id, fields]) => {
      const entry = parseEntry(fields);
      return entry ? [readDeadLetter(id.toString(), source, entry.body, entry.headers)] : [];
    });
  }

  async retry(queue: string, id: string): Promise<boolean> {
    const source = sourceQueueOf(queue);
    const redis = await this.connect();
    const dlq = this.names.queueStream(deadLetterQueueOf(source));
    const [found] = await redis.xrangeBuffer(dlq, id, id);
    if (!found) return false;
    return this.moveBack(dlq, source, id, found[1]);
  }

  async retryAll(queue: string): Promise<number> {
    const source = sourceQueueOf(queue);
    const redis = await this.connect();
    const dlq = this.names.queueStream(deadLetterQueueOf(source));
    // Only what waited when we began (up to its last id): a letter set aside again meanwhile waits for a later look.
    const [last] = await redis.xrevrange(dlq, '+', '-', 'COUNT', 1);
    if (!last) return 0;
    let n = 0;
    let from = '-';
    for (;;) {
      const page = await redis.xrangeBuffer(dlq, from, last[0], 'COUNT', PAGE);
      for (const [id, fields] of page) if (await this.moveBack(dlq, source, id.toString(), fields)) n++;
      if (page.length < PAGE) return n;
      from = `(${page[page.length - 1]![0].toString()}`;
    }
  }

  async discard(queue: string, id: string): Promise<boolean> {
    const redis = await this.connect();
    return (await redis.xdel(this.names.queueStream(deadLetterQueueOf(sourceQueueOf(queue))), id)) === 1;
  }

  async discardAll(queue: string): Promise<number> {
    const redis = await this.connect();
    const dlq = this.names.queueStream(deadLetterQueueOf(sourceQueueOf(queue)));
    // Entry by entry, not DEL: the stream and its consumer group stay as the transport made them.
    let n = 0;
    for (;;) {
      const page = await redis.xrange(dlq, '-', '+', 'COUNT', PAGE);
      if (page.length === 0) return n;
      n += await redis.xdel(dlq, ...page.map(([id]) => id));
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.quit().catch(() => client.disconnect());
  }

  // ---- internals

  private async moveBack(dlq: string, source: string, id: string, fields: Buffer[]): Promise<boolean> {
    const entry = parseEntry(fields);
    if (!entry) return false;
    const letter = readDeadLetter(id, source, entry.body, entry.headers);
    const target = this.names.queueStream(letter.source);
    return (await this.client!.syMoveBack(dlq, target, id, ...entryFields(entry.body, retryHeaders(entry.headers)))) === 1;
  }

  private async groups(stream: string): Promise<Array<{ name: string; consumers: number; pending: number; lag?: number }>> {
    let raw: unknown[];
    try {
      raw = (await this.client!.xinfo('GROUPS', stream)) as unknown[];
    } catch {
      return []; // no such stream
    }
    return raw.map((g) => {
      const fields = g as unknown[];
      const get = (name: string) => fields[fields.indexOf(name) + 1];
      const lag = get('lag');
      return { name: String(get('name')), consumers: Number(get('consumers')), pending: Number(get('pending')), ...(typeof lag === 'number' ? { lag } : {}) };
    });
  }

  private async scan(match: string): Promise<string[]> {
    const redis = await this.connect();
    const keys = new Set<string>();
    let cursor = '0';
    let looked = 0;
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      for (const k of batch) keys.add(k);
      cursor = next;
      looked += 1000;
    } while (cursor !== '0' && looked < SCAN_LIMIT);
    return [...keys];
  }

  private async connect(): Promise<RedisWithMove> {
    if (this.client) return this.client;
    const connections = new RedisConnections({
      url: this.url,
      logger: this.options.logger ?? createLogger({ level: 'silent' }),
      ...(this.options.redis ? { redis: this.options.redis } : {}),
    });
    // A tool's commands fail after a few tries instead of waiting out an outage.
    const client = (await connections.connect('dead-letters', 'direct', { maxRetriesPerRequest: 2 })) as RedisWithMove;
    client.defineCommand('syMoveBack', { numberOfKeys: 2, lua: MOVE_BACK });
    this.client = client;
    return client;
  }
}
