// The worker model's runner: what `switchyard run` and `dev` call with the worker(...)
// definitions of the modules they load. One component per definition, all on the queues of
// the transport the registry opens ("memory", the embedded default, unless settings name
// "amqp://…" or "redis://…"), reading routes and buckets from the runtime's configuration
// source, files from its object store, and the "worker" settings section.

import { errors } from '../../errors.js';
import type { ModelRunner } from '../../runtime/model.js';
import type { Component } from '../../runtime/runtime.js';
import type { Transport } from '../../transports/transport.js';
import { WORKER_FLAGS } from './flags.js';
import { workerOptionsOf, workerSettingsSection, type WorkerSettings } from './settings.js';
import { WorkerComponent } from './worker-component.js';
import { workerEdges } from './worker-report.js';
import type { WorkerDefinition } from './worker.js';

/**
 * A transport the registry opened is shared by every component naming it and is not yet
 * connected: the first worker to start connects it, the others wait for that (the registry
 * closes it after every component stopped).
 */
const connecting = new WeakMap<Transport, Promise<void>>();

function connectOnce(transport: Transport): Promise<void> {
  let started = connecting.get(transport);
  if (!started) {
    started = transport.start();
    connecting.set(transport, started);
    started.catch(() => connecting.delete(transport));
  }
  return started;
}

export const runner: ModelRunner<WorkerDefinition, WorkerSettings> = {
  model: 'worker',
  settings: workerSettingsSection,
  flags: WORKER_FLAGS,
  // On the process's transport (memory, amqp, redis://): every worker of a system shares its queues.
  sharesProcessTransport: true,
  // delayedRequeue is used when the transport offers it (retries wait on the broker, not in a prefetch slot).
  needs: ['queue'],
  defaultTransport: 'memory',
  // Operators and the fault tests read one "message done" line per message.
  logHandledAt: 'info',

  async components(definitions, ctx): Promise<Component[]> {
    if (definitions.length === 0) return [];
    const { facet: transport } = await ctx.transports.facet(ctx.transport, 'worker', runner.needs, 'queues');
    const [config, store] = await Promise.all([ctx.configSource(), ctx.objectStore()]);
    const options = workerOptionsOf(ctx.settings);
    return definitions.map((definition) => new WorkerComponent(definition, {
      transport, store, config, logger: ctx.logger, observer: ctx.observer, ...options,
      connect: () => connectOnce(transport),
    }));
  },

  async edges(definitions, ctx) {
    if (definitions.length === 0) return [];
    const config = await ctx.configSource();
    return Promise.all(definitions.map(async (d) => ({ service: d.name, ...workerEdges(await config.queueConfig(d.name)) })));
  },
};
