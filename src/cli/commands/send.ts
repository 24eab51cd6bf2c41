// `switchyard send <queue> <id...>`: ids checked as u64 here, so a typo fails now (exit 2)
// instead of reaching a dead-letter queue later.

import { errors } from '../../errors.js';
import { parseId } from '../../models/worker/ids.js';
import { sendThroughInbox } from '../inbox.js';
import type { Settings } from '../settings.js';

export async function send(queue: string, ids: readonly string[], settings: Settings): Promise<string> {
  const bodies = ids.map((text) => {
    try {
      return parseId(Buffer.from(text, 'utf8')).toString();
    } catch (err) {
      throw new errors.SY_ERR_USAGE(`cannot send ${JSON.stringify(text)}: ${(err as Error).message}`);
    }
  });
  switch (settings.transport) {
    case 'memory': {
      const sent = await sendThroughInbox(settings.stateDir, queue, bodies);
      return `sent ${sent} message(s) to ${queue}`;
    }
  }
}
