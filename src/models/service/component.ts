// One running service of the service_framework model, as the runtime drives it (a Component,
// runtime/runtime.ts). Its life: new → starting (start-up, startup.ts; sockets, wiring.ts) →
// running (the service loop, serial-loop.ts; in main mode, `main` runs) → stopping (inbound
// sockets closed, the message in hand finished, outbound sockets closed) → stopped. Receiving
// is inbound.ts, sending outbound.ts, what it reports reporter.ts.
//
// SIGINT: the service's sigintHandler runs before it stops, as the original's; SIGTERM only
// stops it. The runtime owns signal handling; a component told to watch (the runner's) only
// notes that SIGINT came, so that its stop() runs the handler first.

import type { Logger } from '../../observability/logger.js';
import type { Edge, Emitter, EventSource } from '../../observability/observer.js';
import type { Component } from '../../runtime/runtime.js';
import type { SocketFactory } from '../../transports/sockets.js';
import type { Addresses, Config, FlatAddresses, ServiceDefinition, StatesView, ToSend } from './definition.js';
import type { InboundContext, InState } from './inbound.js';
import { Sender } from './outbound.js';
import { ServiceReporter } from './reporter.js';
import { SerialLoop } from './serial-loop.js';
import { planService, type ServicePlan } from './startup.js';
import { openWiring, serviceEdges, statesViewOf, type Wiring } from './wiring.js';

export interface ServiceComponentOptions {
  readonly definition: ServiceDefinition;
  /** The service's name, for the source of its events and its log lines. */
  readonly name: string;
  readonly sockets: SocketFactory;
  /** The transport's name in the registry's vocabulary ("zeromq", "memory"). */
  readonly transport: string;
  /** The addresses file's content (nested or flat), before setupAddresses. */
  readonly addresses?: Addresses | FlatAddresses | Record<string, unknown>;
  /** The config file with the extra pairs merged over it, before setupConfig and validation. */
  readonly config?: Config;
  /** Main mode (-m): run `main`, then stop. */
  readonly mainMode?: boolean;
  /** Per receiving socket; undefined: the socket factory's. */
  readonly maxMessageSize?: number;
  readonly logger: Logger;
  /** Where its events go (observer.for(source)); a silent emitter when nobody watches. */
  readonly emitter: Emitter;
  /** Note SIGINT while running, so that stop() runs the sigintHandler first (see above). */
  readonly watchSigint?: boolean;
}

/** What code outside the runtime (tests, embedding, the CLI) can do with a running service. */
export interface RunningService {
  readonly config: Config;
  /** A toSend for code outside handlers (tests, embedding): every send gets a new workflow id. */
  readonly toSend: ToSend;
  /** The current value of every inbound state. */
  states(): StatesView;
  /** Runs the service's sigintHandler (the CLI's stop does on SIGINT). */
  sigint(signal?: NodeJS.Signals): Promise<void>;
  /** Stops taking messages, lets the one in hand finish, closes every socket. */
  stop(): Promise<void>;
  /** Settles once the service stopped: after `main` returned in main mode, or after stop(). Rejects if main threw. */
  readonly done: Promise<void>;
}

type Phase = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export class ServiceComponent implements Component, RunningService {
  readonly source: EventSource;
  readonly done: Promise<void>;
  readonly toSend: ToSend;
  readonly #options: ServiceComponentOptions;
  readonly #log: Logger;
  readonly #report: ServiceReporter;
  readonly #sender: Sender;
  readonly #loop = new SerialLoop();
  readonly #inStates = new Map<string, InState>();
  #phase: Phase = 'new';
  #plan: ServicePlan | undefined;
  #wiring: Wiring | undefined;
  #stopping: Promise<void> | undefined;
  #signal: NodeJS.Signals | undefined;
  /** What main threw, for `done`. */
  #mainFailed: { readonly err: unknown } | undefined;
  #resolveDone!: () => void;
  #rejectDone!: (err: unknown) => void;
  readonly #onSigint = () => {
    this.#signal ??= 'SIGINT';
  };

  constructor(options: ServiceComponentOptions) {
    this.#options = options;
    this.source = { model: 'service', service: options.name, transport: options.transport };
    this.#log = options.logger.child({ service: options.name });
    this.#report = new ServiceReporter(options.emitter, this.#log);
    this.#sender = new Sender(this.#report);
    this.toSend = this.#sender.toSend(undefined, false);
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    this.done.catch(() => undefined);
  }

  /** The config it runs with (validated); {} before start. */
  get config(): Config {
    return this.#plan?.config ?? {};
  }

  states(): StatesView {
    return statesViewOf(this.#inStates);
  }

  async start(): Promise<void> {
    if (this.#phase !== 'new') return;
    this.#phase = 'starting';
    const { definition, name, sockets } = this.#options;
    const plan = await planService(definition, this.#options, name);
    this.#plan = plan;
    this.#wiring = await openWiring(plan, {
      sockets, sender: this.#sender, loop: this.#loop, report: this.#report, inbound: this.#inboundContext(plan.config),
      ...(this.#options.maxMessageSize === undefined ? {} : { maxMessageSize: this.#options.maxMessageSize }),
    }, this.#inStates);
    this.#phase = 'running';
    if (this.#options.watchSigint && definition.sigintHandler) process.prependListener('SIGINT', this.#onSigint);
    this.#log.info({
      sockets: sockets.name,
      in: Object.keys(plan.connections.in ?? {}), out: Object.keys(plan.connections.out ?? {}),
      states: { in: Object.keys(plan.states.in ?? {}), out: Object.keys(plan.states.out ?? {}) },
    }, 'service started');
    this.#loop.open();
    if (this.#options.mainMode) void this.#runMain();
  }

  #inboundContext(config: Config): InboundContext {
    return {
      report: this.#report,
      config,
      statesView: () => this.states(),
      toSend: (id, outputs) => this.#sender.toSend(id, true, outputs),
      serial: (work) => this.#loop.run(work),
      stopping: () => this.#stopping !== undefined,
    };
  }

  /** Main mode: `main` runs once; the service stops when it returns (or throws: `done` rejects). */
  async #runMain(): Promise<void> {
    try {
      await this.#options.definition.main!(this.toSend, this.config);
    } catch (err) {
      this.#mainFailed = { err };
    }
    await this.stop();
  }

  async sigint(signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    const handler = this.#options.definition.sigintHandler;
    if (handler) await handler(signal, this.toSend, this.states(), this.config);
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    process.off('SIGINT', this.#onSigint);
    if (this.#phase !== 'running') {
      // Never started, or its start failed (and closed what it had opened).
      this.#phase = 'stopped';
      this.#resolveDone();
      return;
    }
    this.#phase = 'stopping';
    if (this.#signal === 'SIGINT') {
      try {
        await this.sigint('SIGINT');
      } catch (err) {
        this.#log.error({ err }, 'the SIGINT handler failed');
      }
    }
    const wiring = this.#wiring!;
    for (const s of wiring.inbound) await s.close().catch((err) => this.#log.warn({ err }, 'closing an inbound socket failed'));
    await this.#loop.idle();
    for (const s of wiring.outbound) await s.close().catch((err) => this.#log.warn({ err }, 'closing an outbound socket failed'));
    this.#report.flush();
    this.#phase = 'stopped';
    this.#log.info('service stopped');
    if (this.#mainFailed) this.#rejectDone(this.#mainFailed.err);
    else this.#resolveDone();
  }

  /** Its connections and states (with their addresses once started). */
  edges(): { readonly inputs: readonly Edge[]; readonly outputs: readonly Edge[] } {
    const { definition } = this.#options;
    const plan = this.#plan;
    return plan ? serviceEdges(plan.connections, plan.states, plan.addresses) : serviceEdges(definition.connections ?? {}, definition.states ?? {});
  }
}
