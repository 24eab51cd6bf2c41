// `switchyard send <queue> <id...>`: ids checked as u64 here, so a typo fails now (exit 2)
// instead of reaching a dead-letter queue later. On the embedded default the ids go to the
// broker of the state folder (hosted by the `run` or `dev` process there), and only to a
// queue that broker knows: a misspelled queue is refused with the names it has. On a broker
// (RabbitMQ, Redis) each message is confirmed before the command says so.

import { errors } from '../../errors.js';
import { parseId } from '../../models/worker/ids.js';
import type { Logger } from '../../observability/logger.js';
import { connectLocalBroker } from '../../transports/memory/shared/local-broker.js';
import { deadLetterQueueOf } from '../../transports/transport.js';
import { createTransport, lazyConfigSource } from '../environment.js';
import type { Settings } from '../settings.js';

export async function send(queue: string, ids: readonly string[], settings: Settings, logger: Logger): Promise<string> {
  const bodies = ids.map((text) => {
    try {
      return Buffer.from(parseId(Buffer.from(text, 'utf8')).toString(), 'utf8');
    } catch (err) {
      throw new errors.SY_ERR_USAGE(`cannot send ${JSON.stringify(text)}: ${(err as Error).message}`);
    }
  });
  if (settings.transport === 'memory') return sendToLocalBroker(settings.stateDir, queue, bodies);
  const transport = await createTransport(settings, lazyConfigSource(settings), logger);
  try {
    await transport.start();
    for (const body of bodies) await transport.send(queue, { body });
  } finally {
    await transport.close();
  }
  return `sent ${bodies.length} message(s) to ${queue} (confirmed by the broker)`;
}

async function sendToLocalBroker(stateDir: string, queue: string, bodies: readonly Buffer[]): Promise<string> {
  const client = await connectLocalBroker(stateDir);
  try {
    const known = (await client.queues()).map((q) => q.name).filter((name) => !name.endsWith(deadLetterQueueOf('')));
    if (!known.includes(queue)) throw new errors.SY_ERR_UNKNOWN_QUEUE(queue, suggest(queue, known), known);
    for (const body of bodies) await client.send(queue, { body });
  } finally {
    await client.close();
  }
  return `sent ${bodies.length} message(s) to ${queue}`;
}

/** The known name closest to `name` (edit distance at most 3), if any. */
function suggest(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance <= 3 && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = row;
  }
  return previous[b.length]!;
}
