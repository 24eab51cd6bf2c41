// Lightbus's state plugin (SPECS.md §5.7): events on API `internal.state` saying which
// processes run — `worker_started`, then `worker_ping` every ping interval, and
// `worker_stopped` — with the fields Lightbus sends, so its tools and ours can tell which
// services are alive and what they listen to.

import { hostname } from 'node:os';
import { z } from 'zod';
import { defineApi } from '../define.js';
import type { Bus } from '../api-client.js';

const presence = z.object({
  process_name: z.string(),
  service_name: z.string(),
  metrics_enabled: z.boolean(),
  api_names: z.array(z.string()),
  listening_for: z.array(z.string()),
  timestamp: z.number(),
  ping_enabled: z.boolean(),
  ping_interval: z.number(),
  hostname: z.string(),
  pid: z.number().int(),
  max_memory_use: z.number(),
});

export const internalStateApi = defineApi({
  name: 'internal.state',
  events: {
    worker_started: { params: presence },
    worker_ping: { params: presence },
    worker_stopped: { params: z.object({ process_name: z.string(), service_name: z.string() }) },
  },
});

export interface StatePluginOptions {
  readonly pingEnabled?: boolean;
  /** Seconds between pings (Lightbus: 60). */
  readonly pingIntervalS?: number;
  /** Whether the metrics plugin runs too (reported in every ping). */
  readonly metricsEnabled?: boolean;
}

export function installStatePlugin(bus: Bus, options: StatePluginOptions = {}): void {
  const pingEnabled = options.pingEnabled ?? true;
  const pingInterval = options.pingIntervalS ?? 60;
  let maxMemory = 0;
  bus.declare(internalStateApi);
  const report = () => {
    maxMemory = Math.max(maxMemory, process.memoryUsage().rss);
    const described = bus.describe();
    return {
      process_name: bus.processName,
      service_name: bus.serviceName,
      metrics_enabled: options.metricsEnabled ?? false,
      api_names: described.served,
      listening_for: [...new Set(described.listeners.flatMap((l) => l.events))],
      timestamp: Date.now() / 1000,
      ping_enabled: pingEnabled,
      ping_interval: pingInterval,
      hostname: hostname(),
      pid: process.pid,
      max_memory_use: maxMemory,
    };
  };
  bus.onStart(() => bus.fire('internal.state', 'worker_started', report()));
  if (pingEnabled) bus.every({ seconds: pingInterval }, () => bus.fire('internal.state', 'worker_ping', report()), { name: 'internal.state ping' });
  bus.onStop(() => bus.fire('internal.state', 'worker_stopped', { process_name: bus.processName, service_name: bus.serviceName }));
}
