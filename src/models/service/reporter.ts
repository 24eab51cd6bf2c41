// What a running service tells the observer stream (observability/observer.ts), in the
// stream's shapes, and the operator's log, in one place:
//
//   a request or publication arrives on an inbound connection   received → handled | failed
//   a state update arrives on an inbound state                  received → handled
//   a peer's frame is unreadable or its args invalid            rejected (undecodable | invalid)
// A frame over maxMessageSize is refused by ZeroMQ itself, unread: it drops the sender's
// connection and says nowhere why a connection dropped (a peer that stopped looks the same),
// so the transport logs dropped connections (rate-limited) and the stream does not count
// them: counting every peer that leaves as a refusal would make the count lie.
//   a requester's round trip, an external request, a snapshot    called (target = the connection or state)
//   a publication or state update from a handler                 the handler's handled.produced
//   ... from outside a handler (main, SIGINT handler, embedding) sent
//
// Inputs, outputs and targets are connection and state names from the service's models,
// never anything a peer sent, so metric labels stay bounded. Nothing is built when nobody
// listens (`active`). Warnings caused by a peer go through a rate limiter.

import type { Logger } from '../../observability/logger.js';
import { errorInfo, type Emitter, type Produced } from '../../observability/observer.js';
import { warnLimiter, type WarnLimiter } from '../../observability/warn-limiter.js';
import type { WorkflowId } from './wire/envelope.js';

/** Why a peer's input was refused: a small fixed set. */
export type RejectionKind = 'undecodable' | 'invalid';

/** A workflow id as the stream's id. */
export function idOf(workflowId: WorkflowId): string {
  return workflowId === null ? '' : typeof workflowId === 'string' ? workflowId : workflowId.asStr;
}

/**
 * The outputs one handler produced, while it runs; a send after the handler returned (one
 * it did not await) is reported as "sent" instead.
 */
export class Outputs {
  readonly list: Produced[] = [];
  open = true;
  close(): readonly Produced[] | undefined {
    this.open = false;
    return this.list.length > 0 ? this.list : undefined;
  }
}

export class ServiceReporter {
  readonly log: Logger;
  readonly #emitter: Emitter;
  readonly #warnings: WarnLimiter;

  constructor(emitter: Emitter, log: Logger) {
    this.#emitter = emitter;
    this.log = log;
    this.#warnings = warnLimiter(log);
  }

  /** False when nobody listens: skip timing and collecting. */
  get active(): boolean {
    return this.#emitter.active;
  }

  /** A unit arrived; returns its start time, for the ending. */
  received(input: string, id: string): number {
    this.#emitter.emit({ type: 'received', input, id, attempt: 1 });
    return performance.now();
  }

  handled(input: string, id: string, startedAt: number, produced: readonly Produced[] | undefined): void {
    this.#emitter.emit({ type: 'handled', input, id, durationMs: performance.now() - startedAt, ...(produced ? { produced } : {}) });
  }

  /**
   * A handler failed (or its return args were invalid). Never retried here: a requester
   * gets the error in its reply and decides; a publication is fire-and-forget.
   */
  failed(input: string, id: string, startedAt: number, err: unknown, what: string): void {
    this.warn(`failed:${input}`, { connection: input, reason: errorInfo(err).message }, what);
    if (this.active) this.#emitter.emit({ type: 'failed', input, id, durationMs: performance.now() - startedAt, error: errorInfo(err) });
  }

  /** A peer's input refused before it became a unit of work: logged (rate-limited) and counted. */
  rejected(input: string, kind: RejectionKind, reason: string, what: string): void {
    this.warn(`${kind}:${input}`, { input, reason }, what);
    if (this.active) this.#emitter.emit({ type: 'rejected', input, reason: kind });
  }

  sent(output: string, id: string): void {
    this.#emitter.emit({ type: 'sent', output, id });
  }

  called(target: string, id: string, startedAt: number, err?: unknown): void {
    this.#emitter.emit({ type: 'called', target, id, durationMs: performance.now() - startedAt, ...(err !== undefined ? { error: errorInfo(err) } : {}) });
  }

  /** A warning a peer can cause, rate-limited per key. */
  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    this.#warnings.warn(key, fields, msg);
  }

  /** Writes how many warnings were held back (on stop). */
  flush(): void {
    this.#warnings.flush();
  }
}
