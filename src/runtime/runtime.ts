// THE one lifecycle of a Switchyard process, whatever models it runs: components (one
// running service of any model) start in order and report "starting" then "ready"; on the
// first SIGINT/SIGTERM every component drains (stops taking work, finishes or hands back
// what is in flight) in reverse order, then the resources they run on (transports, stores,
// servers) close, also in reverse; a second signal exits at once. While anything runs, the
// process stays alive, whether or not a component holds a socket of its own.

import type { Logger } from '../observability/logger.js';
import { isInstance } from './instances.js';
import { stopAll, stopOnSignals, type Stoppable } from './lifecycle.js';
import { errorInfo, Observer, type ComponentState, type Edge, type Emitter, type EventSource } from '../observability/observer.js';

/** One running service of one model, as the runtime drives it. */
export interface Component {
  readonly source: EventSource;
  /** Connects and starts taking work; resolves once ready. */
  start(): Promise<void>;
  /** Stops taking work, finishes (or hands back) what is in flight, disconnects. */
  stop(): Promise<void>;
  /** The edges it serves and sends to, for the topology (reported with "ready"). */
  edges?(): { readonly inputs: readonly Edge[]; readonly outputs: readonly Edge[] };
}

/** Something components run on: closed after every component stopped. */
export interface Resource extends Stoppable {
  readonly name: string;
}

export interface ComponentHealth extends EventSource {
  readonly state: ComponentState;
  readonly error?: string;
}

export interface Health {
  /** "ok" when every component is ready; "starting", "stopping" or "failed" otherwise. */
  readonly status: 'ok' | 'starting' | 'stopping' | 'failed';
  readonly components: readonly ComponentHealth[];
}

export interface RuntimeOptions {
  readonly logger: Logger;
  /** Share an observer (e.g. with a dashboard made before the runtime). Default: a new one. */
  readonly observer?: Observer;
}

interface Entry {
  readonly component: Component;
  readonly emitter: Emitter;
  state: ComponentState;
  /** start() was called on it (so stop() is owed, even if start failed half-way). */
  began: boolean;
  error?: string;
}

export class Runtime {
  readonly observer: Observer;
  readonly #logger: Logger;
  readonly #entries: Entry[] = [];
  readonly #resources: Resource[] = [];
  #phase: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  #keepAlive: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: RuntimeOptions) {
    this.#logger = options.logger;
    this.observer = options.observer ?? new Observer();
  }

  /** An emitter for a component's source, for models that report before they are added. */
  emitterFor(source: EventSource): Emitter {
    return this.observer.for(source);
  }

  /** Adds a resource, closed after the components (reverse order of adding). */
  addResource(resource: Resource): void {
    this.#resources.push(resource);
  }

  /** Adds a component; started by start(), or at once when the runtime already runs. */
  async add(component: Component): Promise<void> {
    const entry: Entry = { component, emitter: this.observer.for(component.source), state: 'starting', began: false };
    this.#entries.push(entry);
    if (this.#phase === 'running') await this.#startOne(entry);
  }

  /** Starts every component in order. If one fails, the started ones stop and the error is thrown. */
  async start(): Promise<void> {
    if (this.#phase !== 'new') return;
    this.#phase = 'starting';
    this.#keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
    try {
      for (const entry of this.#entries) await this.#startOne(entry);
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
    this.#phase = 'running';
  }

  async #startOne(entry: Entry): Promise<void> {
    entry.began = true;
    this.#set(entry, 'starting');
    try {
      await entry.component.start();
    } catch (err) {
      entry.error = errorInfo(err).message;
      this.#set(entry, 'failed');
      throw err;
    }
    this.#set(entry, 'ready');
  }

  #set(entry: Entry, state: ComponentState): void {
    entry.state = state;
    if (!entry.emitter.active) return;
    const edges = state === 'ready' ? entry.component.edges?.() : undefined;
    entry.emitter.emit({
      type: 'state',
      state,
      ...(entry.error !== undefined && state === 'failed' ? { error: { message: entry.error } } : {}),
      ...(edges ? { inputs: edges.inputs, outputs: edges.outputs } : {}),
    });
  }

  /** Stops every component (reverse order), then every resource (reverse order); once. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#phase = 'stopping';
    // A component that failed to start has already cleaned up after itself (its start threw).
    const started = this.#entries.filter((e) => e.began && e.state !== 'failed');
    try {
      await stopAll([
        ...this.#resources,
        ...started.map((entry) => ({
          stop: async () => {
            this.#set(entry, 'draining');
            try {
              await entry.component.stop();
              this.#set(entry, 'stopped');
            } catch (err) {
              entry.error = errorInfo(err).message;
              this.#set(entry, 'failed');
              throw err;
            }
          },
        })),
      ]);
    } finally {
      this.#phase = 'stopped';
      if (this.#keepAlive) clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    }
  }

  health(): Health {
    const components = this.#entries.map((e) => ({ ...e.component.source, state: e.state, ...(e.error !== undefined ? { error: e.error } : {}) }));
    const status: Health['status'] = components.some((c) => c.state === 'failed')
      ? 'failed'
      : this.#phase === 'stopping' || this.#phase === 'stopped'
        ? 'stopping'
        : components.every((c) => c.state === 'ready') && this.#phase === 'running'
          ? 'ok'
          : 'starting';
    return { status, components };
  }

  /**
   * Runs until SIGINT/SIGTERM, then stops everything; a second signal exits at once. Resolves
   * 0 after a clean stop (the process then exits through stopOnSignals' exit).
   */
  async untilSignal(exit?: (code: number) => void): Promise<number> {
    await stopOnSignals(
      { stop: () => this.stop() },
      {
        onFirstSignal: (signal) => this.#logger.info({ signal }, 'stopping: no new work; finishing what is in flight (signal again to exit at once)'),
        onSecondSignal: (signal) => this.#logger.warn({ signal }, 'second signal: exiting now; unsettled work is redelivered where the transport keeps it'),
        ...(exit ? { exit } : {}),
        ...(isInstance() ? { signals: ['SIGTERM'] as const } : {}),
      },
    ).stopped;
    return 0;
  }
}
