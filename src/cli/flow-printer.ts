// What `switchyard dev` prints while a pipeline runs: one line per thing that happened to
// a unit of work, for people (the JSON logs stay on stderr for machines). It reads the
// observer stream: a component ready (its edges), handled (what it produced and wrote),
// failed (with the attempt its "received" carried), dead-lettered.

import type { ObserverEvent, ObserverListener, Produced } from '../observability/observer.js';
import { deadLetterQueueOf } from '../transports/transport.js';

export interface FlowRecord {
  /** Every output object written ("bucket/key"), in order. */
  readonly wrote: Array<{ readonly service: string; readonly object: string }>;
  readonly deadLetters: Array<{ readonly service: string; readonly input: string; readonly id: string | undefined; readonly kind: string; readonly reason: string }>;
}

/** "#5 (case true) → a, b": a handled unit's products, one group per result id and label, in order. */
function describeProduced(produced: readonly Produced[]): string[] {
  const groups: Array<{ id: string; label: string | undefined; outputs: string[] }> = [];
  for (const p of produced) {
    const last = groups.at(-1);
    if (last && last.id === p.id && last.label === p.label) last.outputs.push(p.output);
    else groups.push({ id: p.id, label: p.label, outputs: [p.output] });
  }
  return groups.map((g) => `#${g.id}${g.label !== undefined ? ` (case ${g.label})` : ''} → ${g.outputs.join(', ')}`);
}

export function flowPrinter(write: (line: string) => void): { listener: ObserverListener; record: FlowRecord } {
  const record: FlowRecord = { wrote: [], deadLetters: [] };
  /** The attempt of each unit in flight, from its "received", for the "failed" line. */
  const attempts = new Map<string, number>();
  let width = 9;
  const tag = (service: string) => service.padEnd((width = Math.max(width, service.length)));
  const key = (e: ObserverEvent & { input: string; id?: string }) => `${e.model}\u0000${e.service}\u0000${e.input}\u0000${e.id ?? ''}`;
  const listener = (e: ObserverEvent) => {
    switch (e.type) {
      case 'state':
        if (e.state === 'ready') {
          const inputs = (e.inputs ?? []).map((i) => i.name).join(', ') || '(nothing)';
          const outputs = [...new Set((e.outputs ?? []).map((o) => o.name))].join(', ') || '(no routes)';
          write(`${tag(e.service)}  listening on ${inputs} → ${outputs}`);
        }
        break;
      case 'received':
        attempts.set(key(e), e.attempt);
        break;
      case 'handled': {
        attempts.delete(key(e));
        for (const object of e.wrote ?? []) record.wrote.push({ service: e.service, object });
        const wrote = e.wrote ?? [];
        write(
          `${tag(e.service)}  #${e.id} done in ${e.durationMs.toFixed(1)} ms: ` +
            describeProduced(e.produced ?? []).join('; ') +
            (wrote.length > 0 ? `  [wrote ${wrote.join(', ')}]` : ''),
        );
        break;
      }
      case 'failed': {
        const attempt = attempts.get(key(e));
        attempts.delete(key(e));
        write(
          `${tag(e.service)}  #${e.id}${attempt !== undefined ? ` attempt ${attempt}` : ''} failed: ${e.error.message}` +
            (e.retryInMs !== undefined ? `  (retry in ${e.retryInMs} ms)` : ''),
        );
        break;
      }
      case 'dead-lettered': {
        if (e.id !== undefined) attempts.delete(key(e));
        record.deadLetters.push({ service: e.service, input: e.input, id: e.id, kind: e.reasonKind, reason: e.reason });
        const what = e.id === undefined ? 'a message' : `#${e.id}`;
        // A worker's dead letters wait in {queue}.dead-letter; other models set work aside their own way.
        const where = e.model === 'worker' ? ` to ${deadLetterQueueOf(e.input)}` : `: ${e.reason}`;
        write(`${tag(e.service)}  ${what} dead-lettered (${e.reasonKind})${where}`);
        break;
      }
      default:
        break;
    }
  };
  return { listener, record };
}
