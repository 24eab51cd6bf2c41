// The bus protocol on any queue/topic/request transport (the memory transport of the
// embedded default, RabbitMQ): calls go through request/serve, events through topics with
// listener groups, one topic per event. Frames are JSON in the shapes Lightbus uses on
// Redis (blob `{kwargs, metadata}`), so what `inspect` shows reads the same everywhere.
//
// Schemas: a queue/topic transport has no key-value store, so schemas are kept in a
// registry shared by every bus on the same transport object — in-process, which is where
// the memory transport lives. Across processes, schemas travel on Redis only.

import type { Delivery, Subscription, Transport } from '../transport.js';
import type {
  BusEvent,
  BusTransport,
  CallOptions,
  EventDelivery,
  ListenSpec,
  RpcCall,
  RpcResult,
  RpcServer,
  ServeOptions,
  StoredSchema,
} from './bus-transport.js';
import { decodeEventBlob, decodeResultBlob, decodeRpcBlob, encodeEventBlob, encodeResultBlob, encodeRpcBlob } from '../../protocols/lightbus/blob.js';

const rpcSubject = (api: string) => `${api}:rpc_queue`;
const eventTopic = (api: string, event: string) => `${api}.${event}:stream`;

/** Schemas by transport object, each with its expiry time. */
const schemaRegistries = new WeakMap<Transport, Map<string, { schema: StoredSchema; expires: number }>>();

export class BusOverTransport implements BusTransport {
  readonly name: string;
  private readonly subscriptions = new Set<Subscription>();
  /** Buses sharing one transport in one process (the embedded default): the last close() closes it. */
  private users = 0;

  constructor(private readonly transport: Transport) {
    this.name = transport.name;
  }

  async start(): Promise<void> {
    if (this.users++ === 0) await this.transport.start();
  }

  async close(): Promise<void> {
    if (this.users === 0) return;
    if (--this.users > 0) return;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.subscriptions.clear();
    await this.transport.close();
  }

  async call(call: RpcCall, options: CallOptions): Promise<RpcResult> {
    const reply = await this.transport.request(rpcSubject(call.api), { body: Buffer.from(encodeRpcBlob(call, `${this.transport.name}:reply`)) }, { timeoutMs: options.timeoutMs });
    return decodeResultBlob(reply.body);
  }

  async serve(apis: readonly string[], server: RpcServer, options: ServeOptions = {}): Promise<Subscription> {
    const subs = await Promise.all(
      apis.map((api) =>
        this.transport.serve(rpcSubject(api), async (request) => {
          let call: RpcCall;
          try {
            call = decodeRpcBlob(request.body);
          } catch (error) {
            // The caller gets the transport's error reply; the server is told what came in.
            options.onMalformed?.({ nativeId: '', source: rpcSubject(api), reason: (error as Error).message });
            throw error;
          }
          return { body: Buffer.from(encodeResultBlob(await server(call))) };
        }),
      ),
    );
    return this.track(subs);
  }

  async fire(event: BusEvent): Promise<void> {
    await this.transport.publish(eventTopic(event.api, event.event), { body: Buffer.from(encodeEventBlob(event)) });
  }

  async listen(spec: ListenSpec, handler: (delivery: EventDelivery) => Promise<void>): Promise<Subscription> {
    const subs = await Promise.all(
      spec.events.map(({ api, event }) => {
        const topic = eventTopic(api, event);
        return this.transport.subscribe(topic, spec.group, (d) => this.deliver(topic, d, spec, handler), { prefetch: spec.prefetch });
      }),
    );
    return this.track(subs);
  }

  private async deliver(topic: string, d: Delivery, spec: ListenSpec, handler: (delivery: EventDelivery) => Promise<void>): Promise<void> {
    let event: BusEvent;
    try {
      event = decodeEventBlob(d.body);
    } catch (error) {
      const reason = (error as Error).message;
      await d.nack({ requeue: false, reason });
      spec.onMalformed?.({ nativeId: '', source: topic, reason });
      return;
    }
    const delayMs = this.transport.capabilities.delayedRequeue ? spec.reclaimIdleMs : undefined;
    await handler({
      event,
      nativeId: event.id,
      attempt: d.attempt,
      ack: () => d.ack(),
      release: () => d.nack(delayMs === undefined ? { requeue: true } : { requeue: true, delayMs }),
      setAside: (reason) => d.nack({ requeue: false, reason }),
    });
  }

  async storeSchema(api: string, schema: StoredSchema, ttlS: number): Promise<void> {
    let registry = schemaRegistries.get(this.transport);
    if (!registry) schemaRegistries.set(this.transport, (registry = new Map()));
    registry.set(api, { schema, expires: Date.now() + ttlS * 1000 });
  }

  async loadSchemas(): Promise<Record<string, StoredSchema>> {
    const out: Record<string, StoredSchema> = {};
    const now = Date.now();
    for (const [api, entry] of schemaRegistries.get(this.transport) ?? []) if (entry.expires > now) out[api] = entry.schema;
    return out;
  }

  private track(subs: Subscription[]): Subscription {
    const combined: Subscription = {
      stop: async (options) => {
        this.subscriptions.delete(combined);
        await Promise.all(subs.map((s) => s.stop(options)));
      },
    };
    this.subscriptions.add(combined);
    return combined;
  }
}
