// What `switchyard dev` prints while a pipeline runs: one line per thing that happened to
// a message, for people (the JSON logs stay on stderr for machines).

import type { WorkerEvent, WorkerListener } from '../models/worker/mod.js';
import { deadLetterQueueOf } from '../transports/transport.js';
import { describeCase } from '../models/worker/routes.js';

export interface FlowRecord {
  /** Every output object written, in order. */
  readonly uploads: Array<{ service: string; bucket: string; key: string; location: string }>;
  readonly deadLetters: Array<{ service: string; queue: string; id: bigint | undefined; kind: string; reason: string }>;
}

export function flowPrinter(write: (line: string) => void): { listener: WorkerListener; record: FlowRecord } {
  const record: FlowRecord = { uploads: [], deadLetters: [] };
  let width = 9;
  const tag = (service: string) => service.padEnd((width = Math.max(width, service.length)));
  const listener = (event: WorkerEvent) => {
    switch (event.type) {
      case 'started':
        write(`${tag(event.service)}  listening on ${event.queue} → ${event.outbound.join(', ') || '(no routes)'}`);
        break;
      case 'succeeded': {
        for (const u of event.uploads) record.uploads.push({ service: event.service, bucket: u.bucket, key: u.key, location: u.location });
        const routed = event.results.map((r) => `#${r.id} (case ${describeCase(r.case)}) → ${r.queues.join(', ')}`);
        const dropped = event.dropped.map((r) => `#${r.id} (case ${describeCase(r.case)}) dropped: no route`);
        const wrote = event.uploads.map((u) => `${u.bucket}/${u.key}`);
        write(
          `${tag(event.service)}  #${event.id} done in ${event.durationMs.toFixed(1)} ms: ` +
            [...routed, ...dropped].join('; ') +
            (wrote.length > 0 ? `  [wrote ${wrote.join(', ')}]` : ''),
        );
        break;
      }
      case 'failed':
        write(
          `${tag(event.service)}  #${event.id} attempt ${event.attempt} failed: ${event.error.message}` +
            (event.retryInMs !== undefined ? `  (retry in ${event.retryInMs} ms)` : ''),
        );
        break;
      case 'dead-lettered':
        record.deadLetters.push({ service: event.service, queue: event.queue, id: event.id, kind: event.kind, reason: event.reason });
        write(`${tag(event.service)}  ${event.id === undefined ? 'a message' : `#${event.id}`} dead-lettered (${event.kind}) to ${deadLetterQueueOf(event.queue)}`);
        break;
      case 'consumed':
      case 'stopped':
        break;
    }
  };
  return { listener, record };
}
