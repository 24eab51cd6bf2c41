// What a worker reports on the observer stream (observability/observer.ts), and under which
// names. Every name is the configuration's (the inbound queue, the outbound queues, the case
// values of the routes), never what a publisher put in a message, so the metrics derived
// from the stream keep bounded label sets.
//
//   received       a delivery was taken: input = the inbound queue, id = the u64 as decimal
//                  text, attempt (1 on the first delivery); then exactly one of
//   handled        everything it caused is done (uploaded, published, acked): produced = one
//                  entry per routed result per queue {output: queue, id, label: the case},
//                  wrote = "bucket/key" of each upload (absent when nothing was uploaded)
//   failed         process, an upload or a publish failed; it is tried again in retryInMs
//   dead-lettered  no_route (a result's case has no route) or max_attempts (its last attempt
//                  failed; the reason carries that error)
// and, with no "received" before it and no id (process never saw it):
//   dead-lettered  bad_id: the body is not a u64 id, a publisher's doing
//
// Every method returns at once when nobody listens (the hot path pays one property read).

import type { QueueConfig } from '../../config/config-source.js';
import { errorInfo, type Edge, type Emitter, type Produced } from '../../observability/observer.js';
import type { UploadedObject } from './request-files.js';
import type { Case } from './worker.js';

/** Why a message was dead-lettered: a small fixed set (a metric label). */
export const DEAD_LETTER_KINDS = ['bad_id', 'no_route', 'max_attempts'] as const;
export type DeadLetterKind = (typeof DEAD_LETTER_KINDS)[number];

/** One result of process with the queues its case routes it to (none: dropped, unroutedCases "drop"). */
export interface RoutedResult {
  readonly id: bigint;
  readonly case: Case;
  readonly queues: readonly string[];
}

/** A case value as a label: true, 3, question (as `switchyard topology` draws it from a system map). */
export function caseLabel(value: unknown): string {
  return String(value);
}

/** The edges of a worker: its inbound queue in; one output per route (case → queue), labelled with the case. */
export function workerEdges(config: QueueConfig): { readonly inputs: readonly Edge[]; readonly outputs: readonly Edge[] } {
  return {
    inputs: [{ kind: 'queue', name: config.in }],
    outputs: config.out.flatMap((o) => o.queues.map((queue): Edge => ({ kind: 'queue', name: queue, label: caseLabel(o.case) }))),
  };
}

/** What received() hands to handled(): the received event as emitted. */
export interface ReceivedMark {
  readonly id: string;
  readonly at: number;
}

/** The worker's side of the stream for one inbound queue. */
export class WorkerReport {
  readonly #emitter: Emitter;
  readonly #input: string;

  constructor(emitter: Emitter, inbound: string) {
    this.#emitter = emitter;
    this.#input = inbound;
  }

  /** Whether anyone listens: callers skip what only an event needs (the clock). */
  get active(): boolean {
    return this.#emitter.active;
  }

  /**
   * Returns the event (its id as text and its time) for handled(), which reuses both: a
   * bigint's text costs ~0.25 µs to make and a clock read ~0.15 µs, per message.
   */
  received(id: bigint, attempt: number): ReceivedMark | undefined {
    if (!this.#emitter.active) return undefined;
    const event = { type: 'received', input: this.#input, id: id.toString(), attempt } as const;
    this.#emitter.emit(event);
    return event as unknown as ReceivedMark;
  }

  /** `received` is what received() returned, when it did; the event's time is its time plus durationMs. */
  handled(id: bigint, received: ReceivedMark | undefined, durationMs: number, routed: readonly RoutedResult[], uploads: readonly UploadedObject[]): void {
    if (!this.#emitter.active) return;
    const text = received?.id ?? id.toString();
    const at = received ? Math.round(received.at + durationMs) : undefined;
    const produced: Produced[] = [];
    for (const result of routed) {
      // A result that is the message's own id (a stage passing it on) reuses its text.
      const resultId = result.id === id ? text : result.id.toString();
      const label = caseLabel(result.case);
      for (const queue of result.queues) produced.push({ output: queue, id: resultId, label });
    }
    if (uploads.length === 0) this.#emitter.emit({ type: 'handled', input: this.#input, id: text, durationMs, produced }, at);
    else this.#emitter.emit({ type: 'handled', input: this.#input, id: text, durationMs, produced, wrote: uploads.map((u) => `${u.bucket}/${u.key}`) }, at);
  }

  /** A failed attempt that will be tried again (the last one is dead-lettered instead). */
  failed(id: bigint, durationMs: number, error: unknown, retryInMs: number): void {
    if (this.#emitter.active) this.#emitter.emit({ type: 'failed', input: this.#input, id: id.toString(), durationMs, error: errorInfo(error), retryInMs });
  }

  /** `id` exactly when the message was reported received (not for bad_id). */
  deadLettered(id: bigint | undefined, kind: DeadLetterKind, reason: string): void {
    if (!this.#emitter.active) return;
    this.#emitter.emit({ type: 'dead-lettered', input: this.#input, ...(id !== undefined ? { id: id.toString() } : {}), reason, reasonKind: kind });
  }
}
