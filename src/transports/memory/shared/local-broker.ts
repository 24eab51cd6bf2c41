// A one-shot command's connection to the embedded broker of a state folder (`send`,
// `queues`, `dead-letters`): the socket of the `run`/`dev` process hosting it, or
// SY_ERR_NO_LOCAL_BROKER saying how to start one.

import { errors } from '../../../errors.js';
import { brokerSocketOf } from './attach.js';
import { SharedMemoryClient } from './client.js';

export async function connectLocalBroker(stateDir: string): Promise<SharedMemoryClient> {
  const client = new SharedMemoryClient(brokerSocketOf(stateDir));
  try {
    await client.start();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOENT: nobody hosts; ECONNREFUSED: a host died and left its socket file behind.
    if (code === 'ENOENT' || code === 'ECONNREFUSED') throw new errors.SY_ERR_NO_LOCAL_BROKER(stateDir);
    throw err;
  }
  return client;
}
