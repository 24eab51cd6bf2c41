// THE one registry of transports. A transport is chosen by a URL or a name in one
// vocabulary for every model:
//
//   memory            the embedded default (queues, topics, requests, the bus, sockets);
//                     memory?max_length=…&max_bytes=…&overflow=… bounds its queues
//   amqp://…          RabbitMQ (queues, topics, requests)
//   redis://…         Redis (queues, topics, requests, the bus)
//   tcp://…, zeromq   ZeroMQ (sockets)
//   unix, unix:…      acomm over unix sockets (the provider model)
//   http, http://…    HTTP: a server for routes and outbound calls (the task model)
//
// Each adapter is loaded only when chosen (its client library with it), so a memory-only
// process never loads amqplib, ioredis, zeromq or fastify, and a user installs only the
// packages of the adapters they use: a missing one is named with the command that installs
// it. A model states the capabilities it needs; a transport that lacks one is refused at
// start with SY_ERR_CAPABILITY_MISSING. One transport opened per distinct URL per process,
// shared by every component that names it.

import { SLINGSHOT_QUEUE_FLAGS } from '../config/config-source.js';
import { importAdapter } from '../adapter-package.js';
import { errors, redactUrl } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { BusTransport } from '../transports/bus/bus-transport.js';
import type { ServeHttp } from '../transports/http/http-types.js';
import type { SocketFactory } from '../transports/sockets.js';
import type { MemoryTransportOptions } from '../transports/memory/memory-transport.js';
import type { Transport } from '../transports/transport.js';

/** What a transport can do. */
export type TransportCapability =
  /** durable queues with ack/nack and dead letters (the worker model) */
  | 'queue'
  /** topics with listener groups */
  | 'topic'
  /** request/reply with a timeout */
  | 'request'
  /** nack with a delay before redelivery */
  | 'delayedRequeue'
  /** RPCs with results, events with listener groups, a schema store (the API model) */
  | 'bus'
  /** addressed message sockets: REQ/REP, PUB/SUB, proxies (the service model) */
  | 'sockets'
  /** acomm exchanges over unix sockets: framed request + ack, response hooks, streams (the provider model) */
  | 'acomm'
  /** an HTTP server for routes, and outbound HTTP calls (the task model) */
  | 'http';

export type TransportName = 'memory' | 'amqp' | 'redis' | 'zeromq' | 'unix' | 'http';

/** The acomm facet: the unix-socket functions of transports/unix (framing, listeners, clients, hooks, streams). */
export type AcommFacet = typeof import('../transports/unix/mod.js');

/** The HTTP facet: serve routes, call out. */
export interface HttpFacet {
  readonly serve: ServeHttp;
  readonly call: typeof import('../transports/http/http-client.js').httpCall;
}

/** An opened transport: the facets it offers, each present when its capability is. */
export interface OpenedTransport {
  readonly name: TransportName;
  /** The URL as given, credentials redacted, for logs. */
  readonly where: string;
  readonly capabilities: ReadonlySet<TransportCapability>;
  /** queue, topic, request (and delayedRequeue) */
  readonly queues?: Transport;
  readonly bus?: BusTransport;
  readonly sockets?: SocketFactory;
  readonly acomm?: AcommFacet;
  readonly http?: HttpFacet;
  close(): Promise<void>;
}

/** The parts of an opened transport a model runs on. */
export type FacetName = 'queues' | 'bus' | 'sockets' | 'acomm' | 'http';

export interface OpenContext {
  readonly logger: Logger;
  /**
   * The state folder whose embedded broker `memory` shares with the other local processes
   * (the first one hosts it, the others attach). Without it, memory is private to this
   * registry (tests, embedding).
   */
  readonly stateDir?: string;
  /** Queue bounds of an embedded broker this process hosts. */
  readonly memory?: MemoryTransportOptions;
  /**
   * Trace across hops with OpenTelemetry (transports/tracing): every opened transport's
   * queues, bus and HTTP facets are wrapped to carry the context and make spans. Off (the
   * default), nothing is wrapped or loaded.
   */
  readonly tracing?: boolean;
}

interface Adapter {
  readonly name: TransportName;
  readonly capabilities: readonly TransportCapability[];
  /** npm packages the adapter loads, for the "install it" message. */
  readonly packages: readonly string[];
  open(spec: string, ctx: OpenContext): Promise<Omit<OpenedTransport, 'name' | 'where' | 'capabilities'>>;
}

const adapters: Record<TransportName, Adapter> = {
  memory: {
    name: 'memory',
    capabilities: ['queue', 'topic', 'request', 'delayedRequeue', 'bus', 'sockets'],
    packages: [],
    async open(spec, { stateDir, memory, logger }) {
      const [{ MemoryTransport, MemorySockets }, { BusOverTransport }, { SharedMemoryTransport }, { memoryOptionsOfSpec }] = await Promise.all([
        import('../transports/memory/mod.js'),
        import('../transports/bus/bus-over-transport.js'),
        import('../transports/memory/shared/shared-transport.js'),
        import('../transports/memory/memory-url.js'),
      ]);
      // Queue bounds from settings, or riding in the spec's query (memory?max_length=…; memory-url.ts).
      const options = { ...memory, ...memoryOptionsOfSpec(spec) };
      let queues: Transport;
      if (stateDir) {
        queues = await SharedMemoryTransport.open(stateDir, {
          memory: options,
          onHostChange: (hosting) => logger.warn({ stateDir }, hosting
            ? 'the process hosting the embedded broker stopped: this process hosts it now (what that one still held is gone)'
            : 'the process hosting the embedded broker stopped: attached to the next host'),
        });
      } else {
        queues = new MemoryTransport(options);
      }
      await queues.start();
      const bus = new BusOverTransport(queues);
      const sockets = new MemorySockets();
      return {
        queues,
        bus,
        sockets,
        close: async () => {
          await Promise.allSettled([bus.close(), sockets.close()]);
          await queues.close();
        },
      };
    },
  },
  amqp: {
    name: 'amqp',
    capabilities: ['queue', 'topic', 'request', 'delayedRequeue'],
    packages: ['amqplib'],
    async open(url, { logger }) {
      const { AmqpTransport } = await import('../transports/amqp/mod.js');
      // A queue first met without a declaration (a send before any worker ran) is declared as
      // slingshot declares its queues, so slingshot services declaring it later find no conflict.
      const queues = new AmqpTransport({ url, logger, queueDefaults: SLINGSHOT_QUEUE_FLAGS });
      return { queues, close: () => queues.close() };
    },
  },
  redis: {
    name: 'redis',
    capabilities: ['queue', 'topic', 'request', 'delayedRequeue', 'bus'],
    packages: ['ioredis'],
    async open(spec, { logger }) {
      const [{ RedisTransport }, { RedisBusTransport }, { busOptionsOfUrl }] = await Promise.all([
        import('../transports/redis/mod.js'), import('../transports/redis/bus/mod.js'), import('../transports/bus/bus-url.js'),
      ]);
      // The bus's Lightbus transport settings ride in the URL's query (bus-url.ts); the connections get the rest.
      const { url, options } = busOptionsOfUrl(spec);
      const queues = new RedisTransport({ url, logger });
      const bus = new RedisBusTransport({ url, logger, ...options });
      return { queues, bus, close: async () => void (await Promise.allSettled([bus.close(), queues.close()])) };
    },
  },
  zeromq: {
    name: 'zeromq',
    capabilities: ['sockets'],
    packages: ['zeromq'],
    async open(_spec, { logger }) {
      const { ZeroMqSockets } = await import('../transports/zeromq/mod.js');
      // Dropped connections (a frame over a socket's size limit among them) and failed read loops are logged.
      const sockets = new ZeroMqSockets({ logger, onError: (what, err) => logger.error({ err }, `zeromq ${what} stopped`) });
      return { sockets, close: () => sockets.close() };
    },
  },
  unix: {
    name: 'unix',
    capabilities: ['acomm'],
    packages: [],
    async open() {
      const acomm = await import('../transports/unix/mod.js');
      return { acomm, close: async () => undefined };
    },
  },
  http: {
    name: 'http',
    capabilities: ['http'],
    packages: ['fastify', '@fastify/swagger', '@fastify/swagger-ui'],
    async open() {
      const { startHttpServer, httpCall } = await import('../transports/http/mod.js');
      return { http: { serve: startHttpServer, call: httpCall }, close: async () => undefined };
    },
  },
};

/** The adapter a spec names: "memory", "zeromq", or a URL whose scheme says it. */
export function transportNameOf(spec: string): TransportName {
  const s = spec.trim();
  if (/^memory\?/.test(s)) return 'memory';
  if (s === 'memory' || s === 'amqp' || s === 'redis' || s === 'zeromq' || s === 'unix' || s === 'http') return s;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(s)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'amqp':
    case 'amqps':
      return 'amqp';
    case 'redis':
    case 'rediss':
      return 'redis';
    case 'tcp':
    case 'ipc':
    case 'inproc':
      return 'zeromq';
    case 'unix':
      return 'unix';
    case 'http':
    case 'https':
      return 'http';
    default:
      throw new errors.SY_ERR_SETTINGS(
        `transport ${JSON.stringify(redactUrl(s))} is not one Switchyard knows; use memory, amqp://host, redis://host, tcp://host:port (zeromq), unix or http`,
      );
  }
}

/** Whether the spec's adapter offers every capability; no connection is made. */
export function capabilitiesOf(spec: string): readonly TransportCapability[] {
  return adapters[transportNameOf(spec)].capabilities;
}

/** Throws SY_ERR_CAPABILITY_MISSING unless the named transport offers every capability `model` needs. */
export function requireTransportCapabilities(spec: string, model: string, needed: readonly TransportCapability[]): void {
  const adapter = adapters[transportNameOf(spec)];
  const missing = needed.filter((c) => !adapter.capabilities.includes(c));
  if (missing.length > 0) throw new errors.SY_ERR_CAPABILITY_MISSING(model, adapter.name, missing);
}

function isMissingModule(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** One registry per process: transports opened once per spec and shared. */
export class TransportRegistry {
  readonly #open = new Map<string, Promise<OpenedTransport>>();
  readonly #ctx: OpenContext;
  #sdkChecked = false;

  constructor(ctx: OpenContext) {
    this.#ctx = ctx;
  }

  /**
   * The transport `spec` names, opened (once) with the capabilities `model` needs; refused
   * before anything is loaded when it lacks one.
   */
  async open(spec: string, model: string, needed: readonly TransportCapability[]): Promise<OpenedTransport> {
    requireTransportCapabilities(spec, model, needed);
    const key = spec.trim();
    let opened = this.#open.get(key);
    if (!opened) {
      opened = this.#load(key);
      this.#open.set(key, opened);
      opened.catch(() => this.#open.delete(key));
    }
    return opened;
  }

  /**
   * One facet of the transport `spec` names, opened as open() does: what a model runs on
   * (a worker the queues, a service the sockets, a task service http, a provider acomm).
   * SY_ERR_CAPABILITY_MISSING when the transport has no such facet.
   */
  async facet<F extends FacetName>(spec: string, model: string, needed: readonly TransportCapability[], facet: F): Promise<{ readonly name: TransportName; readonly facet: NonNullable<OpenedTransport[F]> }> {
    const opened = await this.open(spec, model, needed);
    const found = opened[facet];
    if (!found) throw new errors.SY_ERR_CAPABILITY_MISSING(model, opened.name, needed.length > 0 ? [...needed] : [facet]);
    return { name: opened.name, facet: found as NonNullable<OpenedTransport[F]> };
  }

  /** The transport `spec` names if something opened it already (nothing is opened here). */
  opened(spec: string): Promise<OpenedTransport> | undefined {
    return this.#open.get(spec.trim());
  }

  async #load(spec: string): Promise<OpenedTransport> {
    const adapter = adapters[transportNameOf(spec)];
    let facets: Awaited<ReturnType<Adapter['open']>>;
    try {
      facets = await adapter.open(spec, this.#ctx);
    } catch (err) {
      if (isMissingModule(err) && adapter.packages.length > 0) {
        throw new errors.SY_ERR_ADAPTER_MISSING(adapter.name, adapter.packages);
      }
      throw err;
    }
    if (this.#ctx.tracing) facets = await this.#traced(facets);
    return { name: adapter.name, where: redactUrl(spec), capabilities: new Set(adapter.capabilities), ...facets };
  }

  /** The facets wrapped to trace; says once when no SDK is there to receive the spans. */
  async #traced(facets: Awaited<ReturnType<Adapter['open']>>): Promise<Awaited<ReturnType<Adapter['open']>>> {
    // @opentelemetry/api is an optional peer (OpenTelemetry's advice for libraries: one copy, the application's).
    const tracing = await importAdapter('tracing', ['@opentelemetry/api'], () => import('../transports/tracing/mod.js'));
    if (!this.#sdkChecked) {
      this.#sdkChecked = true;
      if (!tracing.sdkRegistered()) this.#ctx.logger.warn(tracing.NO_SDK_MESSAGE);
    }
    return {
      ...facets,
      ...(facets.queues ? { queues: tracing.traceQueues(facets.queues) } : {}),
      ...(facets.bus ? { bus: tracing.traceBus(facets.bus) } : {}),
      ...(facets.http ? { http: { serve: tracing.traceServe(facets.http.serve), call: tracing.traceCall(facets.http.call) } } : {}),
    };
  }

  /** Closes every transport opened through this registry. */
  async close(): Promise<void> {
    const all = [...this.#open.values()];
    this.#open.clear();
    await Promise.allSettled(all.map(async (t) => (await t).close()));
  }
}
