// `switchyard dead-letters list|peek|retry|discard` and `switchyard queues`: the queues
// and dead letters of a transport, from outside the services (under `run` as under `dev`).

import { errors } from '../../errors.js';
import type { DeadLetterTool } from '../../runtime/dashboard/dashboard-client.js';
import type { Access } from '../dead-letter-access.js';

type Out = (line: string) => void;

export async function listDeadLetters(tool: DeadLetterTool, json: boolean, out: Out): Promise<number> {
  const queues = await tool.queues();
  if (json) out(JSON.stringify(queues));
  else if (queues.length === 0) out(`no dead letters (${tool.transport})`);
  else for (const q of queues) out(`${q.queue.padEnd(30)} ${String(q.count).padStart(7)}  (${q.deadLetterQueue})`);
  return 0;
}

export async function peekDeadLetters(tool: DeadLetterTool, queue: string, limit: number, json: boolean, out: Out): Promise<number> {
  const letters = await tool.peek(queue, limit);
  if (json) {
    out(JSON.stringify(letters));
    return 0;
  }
  if (letters.length === 0) out(`no dead letters in ${queue}`);
  for (const l of letters) {
    out(`${l.id}  attempts ${l.attempts ?? '?'}  from ${l.source}`);
    out(`  reason: ${l.reason}`);
    out(`  body (${l.bytes} bytes${l.previewEncoding === 'hex' ? ', hex' : ''}): ${l.preview}${l.truncated ? '…' : ''}`);
    const headers = Object.entries(l.headers);
    if (headers.length > 0) out(`  headers: ${headers.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  return 0;
}

export async function actOnDeadLetters(tool: DeadLetterTool, action: 'retry' | 'discard', queue: string, ids: readonly string[], all: boolean, out: Out): Promise<number> {
  if (all === ids.length > 0) throw new errors.SY_ERR_USAGE(`${action}: give the ids of dead letters (see \`switchyard dead-letters peek ${queue}\`) or --all, not both`);
  const verb = action === 'retry' ? 'sent back' : 'discarded';
  if (all) {
    const n = action === 'retry' ? await tool.retryAll(queue) : await tool.discardAll(queue);
    out(`${verb} ${n} dead letter(s) of ${queue}`);
    return 0;
  }
  let missing = 0;
  for (const id of ids) {
    const done = action === 'retry' ? await tool.retry(queue, id) : await tool.discard(queue, id);
    if (done) out(`${verb} ${id}`);
    else {
      missing++;
      out(`${id}: no such dead letter in ${queue} (retried or discarded already?)`);
    }
  }
  return missing > 0 ? 1 : 0;
}

export async function listQueues(access: Access, json: boolean, out: Out): Promise<number> {
  if (!access.look) {
    // Through a dashboard: its page shows depths; here the dead-letter counts.
    return listDeadLetters(access.tool, json, out);
  }
  const queues = await access.look.listQueues();
  if (json) out(JSON.stringify(queues));
  else if (queues.length === 0) out(`no queues (${access.tool.transport})`);
  else {
    out(`${'queue'.padEnd(40)} ${'waiting'.padStart(8)} ${'consumers'.padStart(9)} ${'dead'.padStart(6)}`);
    for (const q of queues) out(`${q.queue.padEnd(40)} ${String(q.depth).padStart(8)} ${String(q.consumers ?? '-').padStart(9)} ${String(q.deadLetters).padStart(6)}`);
  }
  return 0;
}
