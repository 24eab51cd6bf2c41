// `switchyard send <queue> <id...>`: ids checked as u64 here, so a typo fails now (exit 2)
// instead of reaching a dead-letter queue later.

import { errors } from '../../errors.js';
import { parseId } from '../../models/worker/ids.js';
import { sendThroughInbox } from '../inbox.js';
import type { Settings } from '../settings.js';
import type { Logger } from '../../observability/logger.js';
import { createTransport, lazyConfigSource } from '../environment.js';

export async function send(queue: string, ids: readonly string[], settings: Settings, logger: Logger): Promise<string> {
  const bodies = ids.map((text) => {
    try {
      return parseId(Buffer.from(text, 'utf8')).toString();
    } catch (err) {
      throw new errors.SY_ERR_USAGE(`cannot send ${JSON.stringify(text)}: ${(err as Error).message}`);
    }
  });
  if (settings.transport === 'memory') {
    const sent = await sendThroughInbox(settings.stateDir, queue, bodies);
    return `sent ${sent} message(s) to ${queue}`;
  }
  // A broker: publish straight to it, each message confirmed before the command says so.
  const transport = await createTransport(settings, lazyConfigSource(settings), logger);
  await transport.start();
  try {
    for (const body of bodies) await transport.send(queue, { body: Buffer.from(body, 'utf8') });
  } finally {
    await transport.close();
  }
  return `sent ${bodies.length} message(s) to ${queue} (confirmed by the broker)`;
}
