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
// - listeners run on the stream consumer of the generic transport (../stream-consumer.ts):
//   reclaim is XAUTOCLAIM (Redis ≥ 6.2) of entries idle for the reclaim idle time, and a
//   live member keeps what its handlers still run from looking idle; members that hold
//   nothing and were not seen for 3 × the idle time are deleted (Lightbus's consumer_ttl
//   does the same after 2 days); empty groups are not cleaned up.

import type { Redis } from 'ioredis';
import { createLogger, type Logger } from '../../../observability/logger.js';
import type { BusEvent, BusTransport, CallOptions, EventDelivery, ListenSpec, RpcCall, RpcResult, RpcServer, StoredSchema, StreamActivity } from '../../bus/bus-transport.js';
import type { Subscription } from '../../transport.js';
import { eventToFields, fieldsToEvent, isNoop } from '../../../protocols/lightbus/by-field.js';
import { RedisConnections, closeConnection } from '../connection.js';
import { withScripts, type ScriptedRedis } from '../scripts.js';
import type { ConsumerHost } from '../stream-consumer.js';
import { listenOnStreams } from './event-listener.js';
import { streamOf, type StreamUse } from '../../../protocols/lightbus/names.js';
import { SCHEMAS_SET, decodeSchema, encodeSchema, schemaKey } from '../../../protocols/lightbus/schema.js';
import { RpcClient } from './rpc-client.js';
import type { Batcher } from '../batcher.js';
import { fireWriter, type FireWrite } from './event-writes.js';
import { serveRpcs } from './rpc-server.js';

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
  /** How long one blocking read of a listener waits before it is issued again (stop ends it at once). Default 5000. */
  readonly blockMs?: number;
}


export class RedisBusTransport implements BusTransport {
  readonly name = 'redis';
  private commands: (Redis & ScriptedRedis) | undefined;
  private consumerHost: ConsumerHost | undefined;
  private client: RpcClient | undefined;
  private connections: RedisConnections | undefined;
  private readonly subscriptions = new Set<Subscription>();
  private readonly streamUse: StreamUse;
  private readonly maxStreamLength: number | null;
  /** Fires of one tick, one script call per chunk (event-writes.ts). */
  private fires: Batcher<FireWrite> | undefined;

  private readonly options: RedisBusOptions & { readonly logger: Logger };

  constructor(options: RedisBusOptions) {
    this.options = { ...options, logger: options.logger ?? createLogger({ level: 'info' }) };
    this.streamUse = options.streamUse ?? 'per_api';
    this.maxStreamLength = options.maxStreamLength === undefined ? 100_000 : options.maxStreamLength;
  }

  async start(): Promise<void> {
    if (this.commands) return;
    const connections = new RedisConnections({ url: this.options.url, logger: this.options.logger });
    // Commands wait through an outage instead of failing after 20 tries; callers bound
    // their own waits (RPC timeout, event fire timeout).
    const commands = withScripts(await connections.connect('commands', 'commands', { maxRetriesPerRequest: null }));
    this.commands = commands;
    this.connections = connections;
    this.consumerHost = {
      commands,
      // Lazy: a listener started during an outage reads once Redis is back.
      openReader: async () => connections.create('listener', 'blocking'),
      ensureGroup: (stream, group, startAt) => ensureLightbusGroup(commands, stream, group, startAt),
      log: this.options.logger,
    };
    this.client = new RpcClient(connections, this.options.logger, this.options.rpcExpiryS);
    this.fires = fireWriter(commands, this.maxStreamLength);
  }

  async close(): Promise<void> {
    if (!this.commands) return;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.subscriptions.clear();
    await this.client?.close();
    await closeConnection(this.commands);
    this.connections?.closeAll();
    this.commands = undefined;
    this.consumerHost = undefined;
    this.client = undefined;
    this.fires = undefined;
    this.connections = undefined;
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
      connections: this.connections!,
      commands: this.redis(),
      logger: this.options.logger,
      resultTtlS: this.options.resultTtlS ?? 60,
      concurrency: this.options.serveConcurrency ?? 64,
    });
    return this.track(sub);
  }

  fire(event: BusEvent): Promise<void> {
    try {
      this.redis();
      return this.fires!.write({ stream: streamOf(event.api, event.event, this.streamUse), fields: eventToFields(event) });
    } catch (error) {
      // As an async function would: a fire fails by its promise, never by a throw.
      return Promise.reject(error);
    }
  }

  async listen(spec: ListenSpec, handler: (delivery: EventDelivery) => Promise<void>): Promise<Subscription> {
    this.redis();
    const sub = await listenOnStreams(spec, handler, {
      host: this.consumerHost!,
      streamUse: this.streamUse,
      // Dead letters are bounded even where the stream itself is not.
      maxStreamLength: this.maxStreamLength ?? 100_000,
      blockMs: this.options.blockMs ?? 5_000,
    });
    return this.track(sub);
  }

  async storeSchema(api: string, schema: StoredSchema, ttlS: number): Promise<void> {
    await this.redis()
      .multi()
      .set(schemaKey(api), encodeSchema(schema), 'EX', Math.max(1, Math.round(ttlS)))
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
        out[api] = decodeSchema(raw);
      } catch (error) {
        this.options.logger.warn({ api, reason: (error as Error).message }, 'a schema on the bus cannot be read; ignored');
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

/** As Lightbus makes a stream and its group: a no-op entry when the stream is missing, then XGROUP CREATE (no MKSTREAM). */
async function ensureLightbusGroup(commands: Redis, stream: string, group: string, startAt: '0' | '$'): Promise<void> {
  if ((await commands.exists(stream)) === 0) await commands.xadd(stream, '*', '', '');
  try {
    await commands.xgroup('CREATE', stream, group, startAt);
  } catch (error) {
    if (!/BUSYGROUP/.test((error as Error).message)) throw error;
  }
}
