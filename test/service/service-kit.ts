// Helpers for the service tests: socket factories to run every scenario on, bounded waits,
// and loopback addresses from this area's port range (17600-17659).

import { MemorySockets } from '../../src/transports/memory/mod.js';
import { ZeroMqSockets } from '../../src/transports/zeromq/mod.js';
import type { SocketFactory } from '../../src/transports/sockets.js';

export const factories: ReadonlyArray<{ name: string; make: () => SocketFactory }> = [
  { name: 'memory', make: () => new MemorySockets() },
  { name: 'zeromq', make: () => new ZeroMqSockets() },
];

/**
 * Fresh 127.0.0.1 addresses from ports [from, to], rotating. Each test file takes its own
 * range (files may run at the same time): connections 17600-17629, states 17630-17659.
 */
export function addresses(from: number, to: number): () => string {
  let next = from;
  return () => {
    const port = next;
    next = next >= to ? from : next + 1;
    return `127.0.0.1:${port}`;
  };
}

/** Waits until `check()` is true, polling; fails after `ms` naming `what`. */
export async function waitFor(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * PUB/SUB loses what is published before a subscription is up (ZeroMQ's slow joiner):
 * publish probes until one arrives, a bounded number of times.
 */
export async function warmUp(probe: () => Promise<unknown>, arrived: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !arrived(); i++) {
    await probe();
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!arrived()) throw new Error(`no probe reached ${what} after 200 tries`);
}
