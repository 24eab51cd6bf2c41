// The dashboard of a running system (`run`/`dev` with --dashboard-port): the page watches
// the system's observer stream, so it shows every model the process runs. Dead letters and
// queue figures come from the process's queue transport: the embedded broker when this
// process hosts it, or the broker (RabbitMQ, Redis) the process transport names. Made
// before the runtime starts, so every component's "ready" (with its edges) is seen.

import type { Probe } from '../observability/dashboard/probe.js';
import type { DeadLetters } from '../transports/dead-letters.js';
import { hostedMemoryOf } from '../transports/memory/shared/shared-transport.js';
import { processTransportSpec } from './environment.js';
import type { System } from './system.js';

/** Queue names the components declared on "ready" (RabbitMQ cannot list its queues). */
function queueNamesSeen(system: System): () => string[] {
  const names = new Set<string>();
  system.runtime.observer.listen((event) => {
    if (event.type !== 'state' || event.state !== 'ready') return;
    for (const edge of [...(event.inputs ?? []), ...(event.outputs ?? [])]) if (edge.kind === 'queue') names.add(edge.name);
  });
  return () => [...names];
}

async function queueTools(system: System): Promise<{ deadLetters: DeadLetters[]; probes: Probe[] }> {
  const spec = await processTransportSpec(system.settings, system.configSource);
  if (spec === 'memory') {
    const hosted = hostedMemoryOf((await system.transports.opened('memory'))?.queues);
    // An attached process sees the queues through the host's dashboard, not its own.
    if (!hosted) return { deadLetters: [], probes: [] };
    const [{ MemoryDeadLetters }, { memoryProbe }] = await Promise.all([
      import('../transports/memory/memory-dead-letters.js'),
      import('../transports/memory/memory-probe.js'),
    ]);
    return { deadLetters: [new MemoryDeadLetters(hosted)], probes: [memoryProbe(hosted)] };
  }
  if (spec.startsWith('amqp')) {
    const { AmqpDeadLetters } = await import('../transports/amqp/amqp-dead-letters.js');
    const d = new AmqpDeadLetters({ url: spec, queues: queueNamesSeen(system) });
    return { deadLetters: [d], probes: [d.probe()] };
  }
  if (spec.startsWith('redis')) {
    const { RedisDeadLetters } = await import('../transports/redis/redis-dead-letters.js');
    const d = new RedisDeadLetters({ url: spec });
    return { deadLetters: [d], probes: [d.probe()] };
  }
  return { deadLetters: [], probes: [] };
}

/** Starts the dashboard on 127.0.0.1:`port`; the runtime stops it. Resolves with its URL. */
export async function startSystemDashboard(system: System, port: number): Promise<string> {
  const { deadLetters, probes } = await queueTools(system);
  const { startDashboard } = await import('../runtime/dashboard/start-dashboard.js');
  const dashboard = await startDashboard({ observer: system.runtime.observer, health: () => system.runtime.health(), port, deadLetters, probes });
  system.runtime.addResource({
    name: 'dashboard',
    stop: async () => {
      await dashboard.close();
      for (const d of deadLetters) await d.close();
    },
  });
  return dashboard.url;
}
