// Helpers for the service tests: socket factories to run every scenario on, bounded waits,
// and loopback addresses from this area's port range (17600-17659).

import { createLogger, type LevelName } from '../../src/observability/logger.js';
import { Observer, type ObserverEvent } from '../../src/observability/observer.js';
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

/**
 * An observer and a logger to watch a service with: every event the service emits on the
 * observer stream, and every log line (JSON) at `level` or above (debug shows what each
 * state update did: "state update" lines with the state, outcome and currentNum).
 */
export function watch(level: LevelName = 'warn') {
  const observer = new Observer();
  const events: ObserverEvent[] = [];
  observer.listen((e) => void events.push(e));
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level, destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } });
  return {
    observer, events, lines, logger,
    /** Events of one type (on one input, output or target when given). */
    of<T extends ObserverEvent['type']>(type: T, name?: string): Array<Extract<ObserverEvent, { type: T }>> {
      return events.filter((e): e is Extract<ObserverEvent, { type: T }> => e.type === type
        && (name === undefined || ('input' in e && e.input === name) || ('output' in e && e.output === name) || ('target' in e && e.target === name)));
    },
    /** What each update of inbound state `name` did, in order (debug level). */
    stateLog(name: string): Array<{ outcome: string; currentNum?: number }> {
      return lines.filter((l) => l.msg === 'state update' && l.state === name).map((l) => ({ outcome: String(l.outcome), ...(typeof l.currentNum === 'number' ? { currentNum: l.currentNum } : {}) }));
    },
  };
}
