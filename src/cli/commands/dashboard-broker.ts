// A broker's dead letters and probe for the standalone dashboard (loaded only when one is named).

import type { Probe } from '../../observability/dashboard/probe.js';
import { AmqpDeadLetters } from '../../transports/amqp/amqp-dead-letters.js';
import type { DeadLetters } from '../../transports/dead-letters.js';
import { RedisDeadLetters } from '../../transports/redis/redis-dead-letters.js';
import { openAccess, type AccessFlags } from '../dead-letter-access.js';

export async function openBroker(transport: 'amqp' | 'redis', flags: AccessFlags): Promise<{ deadLetters: DeadLetters; probe: Probe }> {
  const access = await openAccess({ ...flags, transport });
  const look = access.look as AmqpDeadLetters | RedisDeadLetters | undefined;
  if (!look) throw new Error(`no direct access to ${transport} (SWITCHYARD_DASHBOARD points at another dashboard; unset it)`);
  return { deadLetters: look, probe: look.probe() };
}
