// The embedded default across local processes: the first process to open the state
// folder's broker hosts it (its own MemoryTransport, served on `{stateDir}/broker.sock`);
// every later one attaches to it. Two terminals of the README share queues, topics, RPCs
// and events without a server installed. Stop the host last: while it runs, it holds the
// messages.

import { unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Transport } from '../../transport.js';
import { MemoryTransport, type MemoryTransportOptions } from '../memory-transport.js';
import { SharedMemoryClient } from './client.js';
import { hostBroker, type BrokerHost } from './host.js';
import { BROKER_SOCKET } from './protocol.js';

export interface SharedMemory {
  /** The transport to use: the host's own MemoryTransport, or a client of the host. */
  readonly transport: Transport;
  /** Set in the hosting process. */
  readonly host?: BrokerHost;
  readonly socketPath: string;
  /** Stops hosting (attached processes lose the broker) or detaches; closes the transport. */
  close(): Promise<void>;
}

export function brokerSocketOf(stateDir: string): string {
  return join(resolve(stateDir), BROKER_SOCKET);
}

function code(err: unknown): string | undefined {
  return (err as { code?: string }).code;
}

/** Attaches to the broker of `stateDir`, or hosts it when none runs there. */
export async function attachOrHost(stateDir: string, options: MemoryTransportOptions = {}, onHostLost?: () => void): Promise<SharedMemory> {
  const socketPath = brokerSocketOf(stateDir);
  for (let tries = 0; ; tries++) {
    const client = new SharedMemoryClient(socketPath, onHostLost);
    try {
      await client.start();
      return { transport: client, socketPath, close: () => client.close() };
    } catch (err) {
      // ENOENT: nobody hosts; ECONNREFUSED: a host died and left its socket file behind.
      if (code(err) === 'ECONNREFUSED') await unlink(socketPath).catch(() => undefined);
      else if (code(err) !== 'ENOENT') throw err;
    }
    const memory = new MemoryTransport(options);
    await memory.start();
    try {
      const host = await hostBroker(memory, socketPath);
      return {
        transport: memory,
        host,
        socketPath,
        close: async () => {
          await host.close();
          await memory.close();
        },
      };
    } catch (err) {
      await memory.close();
      // Another process won the race to host: attach to it instead.
      if (code(err) !== 'EADDRINUSE' || tries >= 3) throw err;
    }
  }
}
