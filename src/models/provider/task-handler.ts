// What a task handler is, and running one: with its time limit, turning what it returns
// (a JSON result, a stream, or a throw) into the three parts of an acomm response.

import { Readable } from 'node:stream';
import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { stringifyJson, type StreamSource } from '../../transports/unix/mod.js';

export interface TaskRequest {
  readonly id: string;
  /** The task the request names: normally the socket's; if not, the socket's handler still runs (as in the Go provider). */
  readonly task: string;
  /** The request's args JSON value (null when none). */
  readonly args: unknown;
  /** Where the response goes (unix:// or http(s)://). */
  readonly responseHook: string;
}

export interface TaskContext {
  /** Aborted when the task's time limit passes: stop work, the response already says "timed out". */
  readonly signal: AbortSignal;
  /** A pino child with the task and request id. */
  readonly log: Logger;
  /** Calls another task through the coordinator (SPECS.md §4.4: never straight to a provider). */
  request(task: string, args?: unknown, options?: { timeoutMs?: number }): Promise<{ result: unknown; streamUrl: string | null }>;
}

/** A handler's answer as a byte stream: sent over a single-use stream socket, its URL in stream_url. */
export class StreamResult {
  constructor(readonly source: StreamSource, readonly result: unknown = null) {}
}

/** Returns `source` as a stream (and optionally a JSON result beside it). */
export function stream(source: StreamSource, result: unknown = null): StreamResult {
  return new StreamResult(source, result);
}

export type TaskHandler = (request: TaskRequest, context: TaskContext) => unknown;

export type HandlerOutcome =
  | { readonly kind: 'result'; readonly result: unknown }
  | { readonly kind: 'stream'; readonly stream: StreamResult }
  | { readonly kind: 'error'; readonly error: string; readonly timedOut: boolean };

/**
 * The context of one request, made for every request and so made cheaply: its getters live
 * on the prototype (an object literal with getters would give every context a shape of its
 * own), the child logger is made when first used, and the AbortController only when a
 * handler reads `signal` (most never do).
 */
export class HandlerContext implements TaskContext {
  private controller: AbortController | undefined;
  private abortedBy: Error | undefined;
  private child: Logger | undefined;

  constructor(
    private readonly baseLog: Logger,
    private readonly task: string,
    private readonly id: string,
    /** The provider's one function for requests to other tasks (not made per request). */
    readonly request: TaskContext['request'],
  ) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortedBy !== undefined) this.controller.abort(this.abortedBy);
    }
    return this.controller.signal;
  }

  get log(): Logger {
    return (this.child ??= this.baseLog.child({ task: this.task, requestId: this.id }));
  }

  /** The time limit passed: aborts the signal, now or when it is first read. */
  abort(reason: Error): void {
    this.abortedBy = reason;
    this.controller?.abort(reason);
  }
}

function outcomeOf(value: unknown): HandlerOutcome {
  if (value instanceof StreamResult) return { kind: 'stream', stream: value };
  if (value instanceof Readable) return { kind: 'stream', stream: new StreamResult(value) };
  return { kind: 'result', result: value === undefined ? null : value };
}

function failure(err: unknown): HandlerOutcome {
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'error', error: message === '' ? 'task failed' : message, timedOut: false };
}

/**
 * Runs `handler`, bounded by `timeoutMs` (0 = no bound); never throws or rejects. A handler
 * that answers synchronously gets its outcome back synchronously, with no timer: a time
 * limit can only end a handler that waits.
 */
export function runHandler(handler: TaskHandler, request: TaskRequest, context: HandlerContext, timeoutMs: number, taskName = request.task): HandlerOutcome | Promise<HandlerOutcome> {
  let value: unknown;
  try {
    value = handler(request, context);
  } catch (err) {
    return failure(err);
  }
  if (value === null || (typeof value !== 'object' && typeof value !== 'function') || typeof (value as PromiseLike<unknown>).then !== 'function') return outcomeOf(value);
  return new Promise<HandlerOutcome>((resolve) => {
    let done = false;
    const timer = timeoutMs > 0
      ? setTimeout(() => {
          if (done) return;
          done = true;
          const err = new errors.SY_ERR_TASK_TIMEOUT(taskName, timeoutMs, `raise tasks.${taskName}.timeout or default_timeout (seconds), or make the handler faster`);
          context.abort(err);
          resolve({ kind: 'error', error: err.message, timedOut: true });
        }, timeoutMs)
      : undefined;
    (value as PromiseLike<unknown>).then(
      (v) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(outcomeOf(v));
      },
      (err: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(failure(err));
      },
    );
  });
}

/** Whether a result can be written as JSON (bigints can: as exact integers), or why not (a cycle): a result must survive the wire. */
export function resultJson(result: unknown): { ok: true } | { ok: false; why: string } {
  try {
    stringifyJson(result);
    return { ok: true };
  } catch (err) {
    return { ok: false, why: notJsonWhy(err) };
  }
}

/** The error text for a result that cannot be sent as JSON. */
export function notJsonWhy(err: unknown): string {
  return `the handler's result cannot be sent as JSON (${(err as Error).message}); return plain JSON values`;
}
