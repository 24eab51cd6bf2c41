// What a task service reports on the observer stream, and under which names. Every name
// here is fixed (never a URL, slug or id a peer sent), so the metrics derived from the
// stream keep bounded label sets:
//   input "compute"       POST /compute: received when a task is queued, then exactly one of
//                         handled (the engine was told it finished), failed (the engine was
//                         told it ended in error; a task is never retried here, the engine
//                         decides) or dead-lettered (its callback was given up on);
//   input "task-status"   GET /tasks/{id}/status, only ever as "rejected";
//   targets               engine-callback (each PATCH attempt), engine-register (each
//                         announce), engine-ping (each heartbeat), engine-status (the
//                         sleeping notice on shutdown);
//   rejected reasons      REJECT_REASONS below.

import { errorInfo, type Edge, type Emitter, type ErrorInfo } from '../../observability/observer.js';

export const TASK_INPUT = 'compute';
export const STATUS_INPUT = 'task-status';

export type EngineCallTarget = 'engine-callback' | 'engine-register' | 'engine-ping' | 'engine-status';

/** Why a request was refused before it became a task. */
export const REJECT_REASONS = [
  /** 503: MAX_TASKS tasks in flight, or the service is stopping */
  'full',
  /** 503: MAX_PENDING_CALLBACKS ended tasks still wait for their engine */
  'callbacks-pending',
  /** 409: a task with this id is queued or running */
  'duplicate',
  /** 422: not a valid ServiceTask (or task_id not a UUID) */
  'invalid',
  /** 400: the body's bytes are not text */
  'undecodable',
  /** 413: the body is larger than MAX_BODY_BYTES */
  'too-large',
  /** 401: no or a wrong bearer token */
  'unauthorized',
  /** 403: callback_url or s3_host outside OUTBOUND_ALLOW_LIST */
  'outbound',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Why a task was set aside for good. */
export const SET_ASIDE_KINDS = ['callback-abandoned'] as const;

/** The edges of every task service, reported with "ready" and by `switchyard topology`. */
export const TASK_EDGES: { readonly inputs: readonly Edge[]; readonly outputs: readonly Edge[] } = {
  inputs: [{ kind: 'http', name: 'POST /compute' }],
  outputs: [{ kind: 'http', name: 'engine callback' }, { kind: 'http', name: 'S3 store (data_out)' }],
};

/** The task model's side of the stream: one method per event, each skipped when nobody listens. */
export class TaskEvents {
  readonly #emitter: Emitter;

  constructor(emitter: Emitter) {
    this.#emitter = emitter;
  }

  received(id: string): void {
    if (this.#emitter.active) this.#emitter.emit({ type: 'received', input: TASK_INPUT, id, attempt: 1 });
  }

  /** The engine was told the task finished; `wrote` are its data_out keys. */
  handled(id: string, durationMs: number, wrote: readonly string[]): void {
    if (!this.#emitter.active) return;
    this.#emitter.emit({ type: 'handled', input: TASK_INPUT, id, durationMs, produced: [{ output: 'engine callback', id }], wrote });
  }

  /** The engine was told the task ended in error. */
  failed(id: string, durationMs: number, message: string): void {
    if (!this.#emitter.active) return;
    const code = codeOf(message);
    this.#emitter.emit({ type: 'failed', input: TASK_INPUT, id, durationMs, error: code ? { code, message } : { message } });
  }

  /** The callback was given up on: the engine never learns how the task ended. */
  setAside(id: string, reason: string): void {
    if (this.#emitter.active) this.#emitter.emit({ type: 'dead-lettered', input: TASK_INPUT, id, reason, reasonKind: 'callback-abandoned' });
  }

  /** One outbound request to an engine; `id` is the task id or the engine's (redacted) URL. */
  called(target: EngineCallTarget, id: string, durationMs: number, error?: unknown): void {
    if (!this.#emitter.active) return;
    this.#emitter.emit({ type: 'called', target, id, durationMs, ...(error !== undefined ? { error: asErrorInfo(error) } : {}) });
  }

  rejected(input: typeof TASK_INPUT | typeof STATUS_INPUT, reason: RejectReason): void {
    if (this.#emitter.active) this.#emitter.emit({ type: 'rejected', input, reason });
  }
}

function asErrorInfo(error: unknown): ErrorInfo {
  return typeof error === 'string' ? { message: error } : errorInfo(error);
}

/** The catalogue code a task's error_message starts with (SY_ERR_TASK_INPUT: ...), if any. */
function codeOf(message: string): string | undefined {
  return /^(SY_ERR_[A-Z_]+):/.exec(message)?.[1];
}
