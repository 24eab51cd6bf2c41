// One provider as the runtime runs it: a Component whose start() registers the definition's
// tasks on a Provider and opens their sockets, and whose stop() removes the sockets and lets
// the requests in flight answer. The Provider is made at once (not on start), so that a
// supervisor of `--instances` copies can learn the socket paths to prepare without serving.

import type { Logger } from '../../observability/logger.js';
import type { Edge, Emitter, EventSource } from '../../observability/observer.js';
import type { AcommFacet } from '../../runtime/registry.js';
import type { Component } from '../../runtime/runtime.js';
import type { ProviderDefinition } from './define.js';
import { Provider } from './provider.js';
import type { ProviderSettings } from './settings.js';

export interface ProviderComponentOptions {
  readonly definition: ProviderDefinition;
  /** The resolved provider section, service_name filled in. */
  readonly settings: ProviderSettings & { readonly service_name: string };
  readonly acomm: AcommFacet;
  /** The transport's name as the registry gives it ("unix"). */
  readonly transport: string;
  readonly logger: Logger;
  readonly emitter: Emitter;
  /** Copy N of `--instances` (its task sockets shared, its response socket its own). */
  readonly instance?: number;
}

export class ProviderComponent implements Component {
  readonly source: EventSource;
  readonly provider: Provider;
  readonly #definition: ProviderDefinition;
  #registered: Promise<void> | undefined;

  constructor(options: ProviderComponentOptions) {
    this.source = { model: 'provider', service: options.settings.service_name, transport: options.transport };
    this.#definition = options.definition;
    this.provider = new Provider(options.settings, {
      logger: options.logger, emitter: options.emitter, acomm: options.acomm,
      ...(options.instance !== undefined ? { instance: options.instance } : {}),
    });
  }

  /** Runs the definition's registerTasks once; the tasks (and so the socket paths) are known afterwards. */
  register(): Promise<void> {
    this.#registered ??= (async () => {
      await this.#definition.registerTasks(this.provider);
    })();
    return this.#registered;
  }

  /** The task socket paths this provider serves (after register()). */
  socketPaths(): string[] {
    return this.provider.registeredTasks().map((task) => this.provider.taskSocketPath(task));
  }

  async start(): Promise<void> {
    await this.register();
    await this.provider.start();
  }

  stop(): Promise<void> {
    return this.provider.stop();
  }

  edges(): { readonly inputs: readonly Edge[]; readonly outputs: readonly Edge[] } {
    return this.provider.edges();
  }
}
