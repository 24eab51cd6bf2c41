// `switchyard dashboard [dir|map]`: the dashboard on its own, for a system that runs
// elsewhere: the topology from its system map (or components file), queue depths,
// consumers and dead letters (with retry and discard) from the broker. Live rates come
// from processes that serve a dashboard themselves (startDashboard with their runtime's
// observer).

import { Observer } from '../../observability/observer.js';
import type { Probe } from '../../observability/dashboard/probe.js';
import type { ComponentPorts } from '../../observability/dashboard/topology.js';
import { stopOnSignals } from '../../runtime/lifecycle.js';
import type { DeadLetters } from '../../transports/dead-letters.js';
import { errors } from '../../errors.js';
import { readTopologyInput } from '../topology-input.js';
import type { AccessFlags } from '../dead-letter-access.js';

export interface DashboardFlags extends AccessFlags {
  readonly port?: string;
  readonly host?: string;
}

export async function dashboardCommand(input: string | undefined, flags: DashboardFlags, out: (line: string) => void): Promise<number> {
  const port = Number(flags.port ?? 7465);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new errors.SY_ERR_USAGE(`--port must be a port number (0 for any free one), got ${String(flags.port)}`);
  const declared: ComponentPorts[] = input ? await readTopologyInput(input) : [];
  const deadLetters: DeadLetters[] = [];
  const probes: Probe[] = [];
  const transport = flags.transport ?? process.env.SWITCHYARD_TRANSPORT;
  if (transport === 'amqp' || transport === 'redis') {
    const queues = declared.flatMap((c) => [...c.inputs, ...c.outputs].filter((p) => !p.kind || p.kind === 'queue').map((p) => p.name));
    const { openBroker } = await import('./dashboard-broker.js');
    const broker = await openBroker(transport, { ...flags, queue: [...(flags.queue ?? []), ...queues] });
    deadLetters.push(broker.deadLetters);
    probes.push(broker.probe);
  } else if (transport !== undefined && transport !== 'memory') {
    throw new errors.SY_ERR_DEAD_LETTERS_UNSUPPORTED(transport);
  }
  const { startDashboard } = await import('../../runtime/dashboard/start-dashboard.js');
  const dashboard = await startDashboard({ observer: new Observer(), port, ...(flags.host ? { host: flags.host } : {}), declared, deadLetters, probes });
  out(`dashboard at ${dashboard.url}  (${declared.length} services from ${input ?? 'no map'}; dead letters: ${deadLetters.map((d) => d.transport).join(', ') || 'none'})   Ctrl-C stops`);
  await stopOnSignals({
    stop: async () => {
      await dashboard.close();
      for (const d of deadLetters) await d.close();
    },
  }).stopped;
  return 0;
}
