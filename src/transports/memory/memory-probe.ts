// The dashboard's probe on the memory transport: how many messages wait in each queue
// the topology names, and how many dead letters it holds.

import type { ChannelFigures, Probe, ProbeChannel } from '../../observability/dashboard/probe.js';
import { deadLetterQueueOf } from '../transport.js';
import type { MemoryTransport } from './memory-transport.js';

export function memoryProbe(memory: MemoryTransport): Probe {
  return {
    name: 'memory',
    async probe(channels: readonly ProbeChannel[]) {
      const known = new Set(memory.queueNames());
      const out = new Map<string, ChannelFigures>();
      for (const { name } of channels) {
        if (!known.has(name)) continue;
        out.set(name, { depth: memory.depth(name), deadLetters: memory.depth(deadLetterQueueOf(name)) });
      }
      return out;
    },
  };
}
