// The bus protocol on Redis, as Lightbus speaks it (SPECS.md §5), so a Switchyard service
// and a Python Lightbus service share one bus. Where we differ on purpose:
// - between a caller and a server of ours, RPC goes in our own format (native-wire.ts:
//   one list element per burst of calls, deadlines on Redis's clock, result lines on the
//   caller's channel); callers see our servers in native-servers.ts, and fall back to
//   Lightbus's format for APIs no server of ours serves;
// - callers name one reply list per process in return_path instead of one key per call
//   (Lightbus servers push to whatever the return path names, so both interoperate), and
//   also subscribe to the channel of that name: our servers PUBLISH results there, and
//   push to the list only when no one received them (rpc-client.ts);
// - the call's expiry key and its RPUSH are one script (and a burst of calls one script);
// - a call younger than 1 s by its v1 UUID runs without the expiry key's DEL (rpc-server.ts);
// - entries a listener cannot read, or gives up on, are set aside on "{stream}:dead_letter"
//   with the reason (Lightbus has no such place and stops or logs instead);
// - reclaim uses XPENDING with IDLE (Redis ≥ 6.2) and XCLAIM;
// - idle consumers and empty groups are not cleaned up (Lightbus's consumer_ttl).

import type { Redis } from 'ioredis';
import { errors, redactUrl } from '../../../errors.js';
import { createLogger, type Logger } from '../../../observability/logger.js';
import type { BusEvent, BusTransport, CallOptions, EventDelivery, ListenSpec, RpcCall, RpcResult, RpcServer, StoredSchema, StreamActivity } from '../../bus/bus-transport.js';
import type { Subscription } from '../../transport.js';
import { eventToFields, fieldsToEvent, isNoop } from './by-field.js';
import { closeConnection, openRedis } from './connections.js';
import { listenOnStreams } from './event-listener.js';
import { SCHEMAS_SET, schemaKey, streamOf, type StreamUse } from './names.js';
import { RpcClient } from './rpc-client.js';
import { serveRpcs } from './rpc-server.js';
import { sortedJson } from '../../bus/sorted-json.js';
import type { JsonValue } from '../../bus/bus-transport.js';

export interface RedisBusOptions {
  /** redis://[:password@]host:port/db */
  readonly url: string;
  /** Default: an info-level logger to stdout, as every other transport's. */
  readonly logger?: Logger;
  /** One stream per API (Lightbus's default) or per event. */
  readonly streamUse?: StreamUse;
  /** Streams are trimmed to about this many entries (XADD MAXLEN ~); null: never. Lightbus: 100,000. */
  readonly maxStreamLength?: number | null;
  /** Seconds a result waits for its caller. Lightbus result_ttl: 60. */
  readonly resultTtlS?: number;
  /** Calls one process runs at once. */
  readonly serveConcurrency?: number;
  /**
   * Seconds the expiry key of a call in Lightbus's format lives (Lightbus's transport-level
   * rpc_timeout, 5 there): a server that pops the call later drops it. Default: as long as
   * its caller waits (the API's rpc_timeout).
   */
  readonly rpcExpiryS?: number;
}

export class RedisBusTransport implements BusTransport {
  readonly name = 'redis';
  private commands: Redis | undefined;
  private client: RpcClient | undefined;
  private readonly subscriptions = new Set<Subscription>();
  private readonly streamUse: StreamUse;
  private readonly maxStreamLength: number | null;
  private readonly trim: string[];

  private readonly options: RedisBusOptions & { readonly logger: Logger };

  constructor(options: RedisBusOptions) {
    this.options = { ...options, logger: options.logger ?? createLogger({ level: 'info' }) };
    this.streamUse = options.streamUse ?? 'per_api';
    this.maxStreamLength = options.maxStreamLength === undefined ? 100_000 : options.maxStreamLength;
    this.trim = this.maxStreamLength === null ? [] : ['MAXLEN', '~', String(this.maxStreamLength)];
  }

  async start(): Promise<void> {
    if (this.commands) return;
    const commands = openRedis(this.options.url, 'commands', this.options.logger);
    try {
      await commands.connect();
    } catch (error) {
      commands.disconnect();
      throw new errors.SY_ERR_BROKER(`Redis at ${redactUrl(this.options.url)}`, `could not connect (${(error as Error).message}); check that Redis runs there and that the URL's host, port, database and password are right`);
    }
    this.commands = commands;
    this.client = new RpcClient(this.options.url, this.options.logger, this.options.rpcExpiryS);
  }

  async close(): Promise<void> {
    if (!this.commands) return;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.subscriptions.clear();
    await this.client?.close();
    await closeConnection(this.commands);
    this.commands = undefined;
    this.client = undefined;
  }

  private redis(): Redis {
    if (!this.commands) throw new Error('RedisBusTransport used before start()');
    return this.commands;
  }

  call(call: RpcCall, options: CallOptions): Promise<RpcResult> {
    this.redis();
    return this.client!.call(call, options);
  }

  async serve(apis: readonly string[], server: RpcServer): Promise<Subscription> {
    const sub = serveRpcs(apis, server, {
      url: this.options.url,
      commands: this.redis(),
      logger: this.options.logger,
      resultTtlS: this.options.resultTtlS ?? 60,
      concurrency: this.options.serveConcurrency ?? 64,
    });
    return this.track(sub);
  }

  async fire(event: BusEvent): Promise<void> {
    const stream = streamOf(event.api, event.event, this.streamUse);
    await this.redis().xadd(stream, ...this.trim, '*', ...eventToFields(event));
  }

  async listen(spec: ListenSpec, handler: (delivery: EventDelivery) => Promise<void>): Promise<Subscription> {
    const sub = await listenOnStreams(spec, handler, {
      url: this.options.url,
      commands: this.redis(),
      logger: this.options.logger,
      streamUse: this.streamUse,
      // Dead letters are bounded even where the stream itself is not.
      maxStreamLength: this.maxStreamLength ?? 100_000,
    });
    return this.track(sub);
  }

  async storeSchema(api: string, schema: StoredSchema, ttlS: number): Promise<void> {
    await this.redis()
      .multi()
      .set(schemaKey(api), sortedJson(schema as unknown as JsonValue), 'EX', Math.max(1, Math.round(ttlS)))
      .sadd(SCHEMAS_SET, api)
      .exec();
  }

  async loadSchemas(): Promise<Record<string, StoredSchema>> {
    const redis = this.redis();
    const apis = (await redis.smembers(SCHEMAS_SET)).sort();
    if (apis.length === 0) return {};
    const values = await redis.mget(...apis.map(schemaKey));
    const out: Record<string, StoredSchema> = {};
    apis.forEach((api, i) => {
      const raw = values[i];
      if (!raw) return; // expired: its service is gone
      try {
        out[api] = JSON.parse(raw) as StoredSchema;
      } catch {
        this.options.logger.warn({ api }, 'a schema on the bus is not JSON; ignored');
      }
    });
    return out;
  }

  async activity(events: readonly { api: string; event: string }[], recent: number): Promise<StreamActivity[]> {
    const redis = this.redis();
    const streams = [...new Set(events.map((e) => streamOf(e.api, e.event, this.streamUse)))];
    const out: StreamActivity[] = [];
    for (const stream of streams) {
      if ((await redis.exists(stream)) === 0) continue;
      const length = await redis.xlen(stream);
      const groups = ((await redis.xinfo('GROUPS', stream)) as unknown[][]).map((row) => {
        const info: Record<string, unknown> = {};
        for (let i = 0; i + 1 < row.length; i += 2) info[String(row[i])] = row[i + 1];
        return { name: String(info.name), consumers: Number(info.consumers), pending: Number(info.pending) };
      });
      const entries = (await redis.xrevrange(stream, '+', '-', 'COUNT', recent)) as [string, string[]][];
      const recentEvents = entries.flatMap(([id, fields]) => {
        try {
          return isNoop(fields) ? [] : [{ ...fieldsToEvent(fields), nativeId: id }];
        } catch {
          return [];
        }
      });
      out.push({ stream, length, groups, recent: recentEvents });
    }
    return out;
  }

  private track(sub: Subscription): Subscription {
    const tracked: Subscription = {
      stop: async (options) => {
        this.subscriptions.delete(tracked);
        await sub.stop(options);
      },
    };
    this.subscriptions.add(tracked);
    return tracked;
  }
}
