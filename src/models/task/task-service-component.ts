// One running task service, as the runtime drives it (a Component): start serves the HTTP
// routes and links each engine (registration, heartbeat: engine-link.ts); stop tells the
// engines the service is sleeping, stops the server, lets the desk finish the tasks it took
// and give their callbacks a last try. The parts: the desk (task-desk.ts: admission, queue,
// runs, callbacks), the routes (task-routes.ts), the engine links, the event reporter
// (task-events.ts). The HTTP server and outbound calls come from the transport, the object
// stores from `openStore`: a model imports neither fastify nor an S3 client.

import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { silentEmitter, type Edge, type Emitter, type EventSource, type Observer } from '../../observability/observer.js';
import { warnLimiter, type WarnLimiter } from '../../observability/warn-limiter.js';
import { outboundAllowList } from '../../runtime/outbound-allow-list.js';
import type { HttpFacet } from '../../runtime/registry.js';
import type { Component } from '../../runtime/runtime.js';
import type { RunningHttpServer } from '../../transports/http/http-types.js';
import { linkEngine, type EngineLink } from './engine-link.js';
import { registrationBody, type RegistrationOutcome } from './registration.js';
import type { TaskServiceOptions } from './settings.js';
import type { OpenStore } from './store-pool.js';
import { TaskDesk } from './task-desk.js';
import { TASK_EDGES, TaskEvents } from './task-events.js';
import { taskRoutes } from './task-routes.js';
import type { TaskServiceDefinition } from './task-service.js';

export interface TaskServiceParts {
  readonly definition: TaskServiceDefinition;
  readonly options: TaskServiceOptions;
  /** The transport's HTTP facet: the server for the routes, outbound calls. */
  readonly http: HttpFacet;
  /** The transport's name as the registry gives it ("http"), for the event source. */
  readonly transport: string;
  /** An object store for the S3 settings a task arrives with. */
  readonly openStore: OpenStore;
  readonly logger: Logger;
  /** Where the service reports (the runtime's observer); none: nothing is reported. */
  readonly observer?: Observer;
}

/** What exists between start and stop. */
interface Serving {
  readonly server: RunningHttpServer;
  readonly desk: TaskDesk;
  readonly links: readonly EngineLink[];
  readonly limiter: WarnLimiter;
  readonly registration: Promise<RegistrationOutcome[]>;
}

export class TaskServiceComponent implements Component {
  readonly source: EventSource;
  readonly #parts: TaskServiceParts;
  readonly #log: Logger;
  readonly #emitter: Emitter;
  #serving: Serving | undefined;
  #stopped: Promise<void> | undefined;

  constructor(parts: TaskServiceParts) {
    this.#parts = parts;
    this.source = { model: 'task', service: parts.definition.slug, transport: parts.transport };
    this.#emitter = parts.observer?.for(this.source) ?? silentEmitter;
    this.#log = parts.logger.child({ service: parts.definition.slug });
  }

  /** Where it listens, e.g. http://127.0.0.1:9090 (after start). */
  get url(): string {
    return this.#started().server.url;
  }

  get port(): number {
    return this.#started().server.port;
  }

  /** Settles once every engine was registered with or given up on (after start). */
  get registration(): Promise<RegistrationOutcome[]> {
    return this.#started().registration;
  }

  /** Tasks in flight, running, and ended ones whose engine has not been told yet (for tests). */
  activity(): ReturnType<TaskDesk['activity']> {
    return this.#started().desk.activity();
  }

  edges(): { readonly inputs: readonly Edge[]; readonly outputs: readonly Edge[] } {
    return TASK_EDGES;
  }

  async start(): Promise<void> {
    if (this.#serving) return;
    const { definition, options, http } = this.#parts;
    const log = this.#log;
    const limiter = warnLimiter(log);
    const events = new TaskEvents(this.#emitter);
    const allow = outboundAllowList(options.outboundAllow, 'OUTBOUND_ALLOW_LIST');
    const desk = new TaskDesk({ definition, options, log, warn: limiter.warn, events, call: http.call, openStore: this.#parts.openStore, allow });
    const server = await http.serve({
      host: options.host,
      port: options.port,
      routes: taskRoutes(desk, options.authToken),
      bodyLimitBytes: options.bodyLimitBytes,
      timeouts: { requestMs: options.requestTimeoutMs, headersMs: options.headersTimeoutMs, keepAliveMs: options.keepAliveTimeoutMs },
      openapi: { title: definition.name, version: '1.0.0', description: definition.description ?? definition.summary, bearerAuth: options.authToken !== undefined },
      onError: (err, where) => log.error({ err, where }, 'HTTP request failed inside the service'),
      // Only the task route is an input (other paths are whatever a peer made up).
      onTooLarge: (method, path) => {
        if (method === 'POST' && path === '/compute') desk.refused('compute', 'too-large');
      },
    });
    log.info({
      url: server.url, docs: `${server.url}/docs`, maxTasks: options.maxTasks, maxPendingCallbacks: options.maxPendingCallbacks, concurrency: options.concurrency,
      ...(allow ? { outboundAllow: allow.entries } : {}),
    }, 'task service listening');
    this.#warnAboutDeclaration();

    // After listen: the engine checks GET {url}/status before it accepts the registration.
    const body = registrationBody(definition, options.serviceUrl ?? `http://localhost:${server.port}`);
    if (options.engineUrls.length === 0) log.info('no ENGINE_URLS: not registering with any engine');
    const wire = { call: http.call, events };
    const links = options.engineUrls.map((engine) => linkEngine({ wire, engine, body, announceRetry: options.announceRetry, heartbeatMs: options.heartbeatMs, log, warn: limiter.warn }));
    const registration = Promise.all(links.map((link) => link.registration));
    this.#serving = { server, desk, links, limiter, registration };
  }

  /**
   * Stops taking tasks, tells each engine the service is sleeping, stops the server,
   * finishes the tasks accepted, tries their callbacks a last time, and returns.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    const serving = this.#serving;
    if (!serving) return;
    const { server, desk, links, limiter } = serving;
    desk.close();
    this.#log.info({ inFlight: desk.activity().inFlight }, 'task service stopping: no new tasks; telling the engines, then finishing the accepted ones');
    await Promise.all(links.map((link) => link.stop()));
    // Before the server stops, as the reference's graceful shutdown: the engine stops routing tasks here.
    await Promise.all(links.map((link) => link.sleep()));
    await server.close();
    await desk.drain();
    limiter.flush();
    this.#log.info('task service stopped');
  }

  #started(): Serving {
    if (!this.#serving) throw new errors.SY_ERR_USAGE(`task service ${this.source.service} is not started: start() it (or run it through the Runtime) before asking for its address, registration or activity`);
    return this.#serving;
  }

  /** Declarations that serve but surprise: said once at start. */
  #warnAboutDeclaration(): void {
    const { definition, options } = this.#parts;
    const oggInputs = definition.dataIn.filter((f) => f.type.includes('audio/ogg')).map((f) => f.name);
    if (oggInputs.length > 0) {
      this.#log.warn({ inputs: oggInputs }, 'these inputs accept audio/ogg, but Python\'s mimetypes table (the reference service\'s, used here for parity) maps no key extension to audio/ogg: a key is never taken as audio/ogg');
    }
    if (options.heartbeatMs >= 50_000) {
      this.#log.warn({ heartbeatMs: options.heartbeatMs }, 'HEARTBEAT_INTERVAL is not inside the engine\'s default 30 s + 20 s: it may mark this service sleeping between heartbeats');
    }
  }
}
