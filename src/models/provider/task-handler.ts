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

/** Runs `handler`, bounded by `timeoutMs` (0 = no bound); never throws. */
export async function runHandler(handler: TaskHandler, request: TaskRequest, context: Omit<TaskContext, 'signal'>, timeoutMs: number, taskName = request.task): Promise<HandlerOutcome> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<HandlerOutcome>((resolve) => {
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        const err = new errors.SY_ERR_TASK_TIMEOUT(taskName, timeoutMs, `raise tasks.${taskName}.timeout or default_timeout (seconds), or make the handler faster`);
        controller.abort(err);
        resolve({ kind: 'error', error: err.message, timedOut: true });
      }, timeoutMs);
    }
  });
  const run = (async (): Promise<HandlerOutcome> => {
    try {
      // Descriptors, not a spread: a spread would call the context's lazy getters (the logger) up front.
      const full = Object.defineProperties({ signal: controller.signal }, Object.getOwnPropertyDescriptors(context)) as TaskContext;
      const value = await handler(request, full);
      if (value instanceof StreamResult) return { kind: 'stream', stream: value };
      if (value instanceof Readable) return { kind: 'stream', stream: new StreamResult(value) };
      return { kind: 'result', result: value === undefined ? null : value };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { kind: 'error', error: message === '' ? 'task failed' : message, timedOut: false };
    }
  })();
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a result can be written as JSON (bigints can: as exact integers), or why not (a cycle): a result must survive the wire. */
export function resultJson(result: unknown): { ok: true } | { ok: false; why: string } {
  try {
    stringifyJson(result);
    return { ok: true };
  } catch (err) {
    return { ok: false, why: `the handler's result cannot be sent as JSON (${(err as Error).message}); return plain JSON values` };
  }
}
