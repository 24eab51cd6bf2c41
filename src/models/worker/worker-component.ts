// One running worker, as the runtime drives it (runtime/runtime.ts's Component):
//   start  asks the configuration for its queues and routes, declares every queue it uses
//          (so a queue that exists with other flags fails here, naming the queue and the
//          setting, never in the middle of a run), then consumes its inbound queue with
//          `concurrency` messages in flight;
//   stop   stops taking messages, lets the ones in flight finish, and returns;
//   edges  its inbound queue, and one output per route (reported with "ready").
// What it does with each message is message-handling.ts.

import { SLINGSHOT_QUEUE_FLAGS, type ConfigSource, type QueueConfig, type QueueDeclaration } from '../../config/config-source.js';
import type { Logger } from '../../observability/logger.js';
import { silentEmitter, type Edge, type EventSource, type Observer } from '../../observability/observer.js';
import { warnLimiter, type WarnLimiter } from '../../observability/warn-limiter.js';
import type { Component } from '../../runtime/runtime.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { requireCapabilities, type QueueOptions, type Subscription, type Transport } from '../../transports/transport.js';
import { MessageHandling } from './message-handling.js';
import { RouteMap } from './routes.js';
import { WorkerReport, workerEdges } from './worker-report.js';
import type { WorkerDefinition } from './worker.js';

export interface WorkerEnvironment {
  readonly transport: Transport;
  readonly store: ObjectStore;
  readonly config: ConfigSource;
  /** For the operator's lines the worker writes itself (warnings) and process's `log`. */
  readonly logger: Logger;
  /** Where the worker reports what happens to its messages (the runtime's); default: nowhere. */
  readonly observer?: Observer;
  /** Parent folder of the per-message staging folders; default the OS temp folder. */
  readonly stagingRoot?: string;
  /** Bytes of one output staged in memory before it spills to a file; default 1 MiB, 0 = always a file. */
  readonly stagingMemoryBytes?: number;
  /**
   * How to declare the queues the configuration says nothing about (the worker settings'
   * queueDurable/queueArguments). Unset: an existing queue is used as it is and a missing
   * one is declared as slingshot declares it (non-durable, no arguments).
   */
  readonly queueDefaults?: QueueDeclaration;
  /**
   * Connects the transport, first thing in start() (the runner's: a transport the registry
   * opened is started by the first component that needs it). Unset: it is started already.
   */
  readonly connect?: () => Promise<void>;
}

export class WorkerComponent implements Component {
  readonly source: EventSource;
  readonly log: Logger;
  /** Operator warnings that can repeat once per message: rate-limited per kind, suppressed ones counted. */
  readonly #warnings: WarnLimiter;
  #config: QueueConfig | undefined;
  #subscription: Subscription | undefined;

  constructor(
    readonly definition: WorkerDefinition,
    private readonly env: WorkerEnvironment,
  ) {
    this.source = { model: 'worker', service: definition.name, transport: env.transport.name };
    this.log = env.logger.child({ service: definition.name });
    this.#warnings = warnLimiter(this.log);
  }

  get name(): string {
    return this.definition.name;
  }

  /** The inbound queue, once started. */
  get inbound(): string | undefined {
    return this.#config?.in;
  }

  async start(): Promise<void> {
    const { transport, config } = this.env;
    requireCapabilities(transport, 'worker', ['queue']);
    await this.env.connect?.();
    const queueConfig = await config.queueConfig(this.definition.name);
    const routes = new RouteMap(queueConfig);
    for (const queue of [queueConfig.in, ...routes.allQueues()]) await transport.declareQueue(queue, await this.#declarationOf(queue));
    const log = this.log.child({ queue: queueConfig.in });
    const handling = new MessageHandling({
      definition: this.definition, transport, routes, log,
      report: new WorkerReport(this.env.observer?.for(this.source) ?? silentEmitter, queueConfig.in),
      warnings: this.#warnings,
      files: {
        store: this.env.store,
        resolveBucket: (alias) => config.bucket(this.definition.name, alias),
        ...(this.env.stagingRoot ? { stagingRoot: this.env.stagingRoot } : {}),
        ...(this.env.stagingMemoryBytes !== undefined ? { stagingMemoryBytes: this.env.stagingMemoryBytes } : {}),
      },
    });
    this.#subscription = await transport.consume(queueConfig.in, handling.handle, { prefetch: this.definition.concurrency });
    this.#config = queueConfig;
  }

  async stop(): Promise<void> {
    const subscription = this.#subscription;
    this.#subscription = undefined;
    if (!subscription) return;
    await subscription.stop();
    this.#warnings.flush();
  }

  edges(): { readonly inputs: readonly Edge[]; readonly outputs: readonly Edge[] } {
    return this.#config ? workerEdges(this.#config) : { inputs: [], outputs: [] };
  }

  /**
   * The configuration's flags for a queue, else the settings'; when neither says anything,
   * a queue shared with slingshot is used as it exists, and one that does not exist yet is
   * declared with slingshot's flags, so slingshot services starting later declare it
   * without a conflict.
   */
  async #declarationOf(queue: string): Promise<QueueOptions> {
    const declared = (await this.env.config.queueDeclaration(queue)) ?? this.env.queueDefaults;
    if (declared) return { durable: declared.durable, arguments: declared.arguments };
    return { durable: SLINGSHOT_QUEUE_FLAGS.durable, arguments: SLINGSHOT_QUEUE_FLAGS.arguments, useExisting: true };
  }
}

/** Starts one worker outside a runtime (embedding it in a program of one's own, tests, benchmarks). */
export async function startWorker(definition: WorkerDefinition, env: WorkerEnvironment): Promise<WorkerComponent> {
  const component = new WorkerComponent(definition, env);
  await component.start();
  return component;
}
