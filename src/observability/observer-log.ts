// The log lines of every model, derived from the observer stream: one listener, one set of
// messages and fields, whatever model reports (it knows none by name; what differs per
// model, the level of "message done", is the caller's to say). Log lines a model writes
// for the operator itself (a warning about its own state) stay the model's, through the
// logger it is given.
//
//   state ready         info  "<model> started"   (with the edges' names)
//   state stopped       info  "<model> stopped"
//   state failed        error "<model> failed"
//   received            debug "message received"
//   handled             info or debug "message done" (the runner's logHandledAt)
//   failed              warn  "message failed"     (err, retryInMs)
//   dead-lettered       error "message dead-lettered"; one without an id was refused
//                       before it became a unit of work (a peer's doing): rate-limited warn
//   rejected            warn  "input rejected", rate-limited
//   called with error   debug "call failed"
//
// Fields: model, service, transport, input, id, ms, produced, wrote (and attempt, err,
// retryInMs, reason, reasonKind where the event has them). Lines a peer can cause once per
// message it sends are rate-limited per kind (warn-limiter.ts), so no publisher can flood
// the log; the count of what was suppressed is written.

import type { Logger } from './logger.js';
import type { ModelKind, Observer, ObserverEvent } from './observer.js';
import { warnLimiter, type WarnLimiterOptions } from './warn-limiter.js';

export interface ObserverLogOptions {
  /** The level of "message done" per model (its runner's logHandledAt); default debug for all. */
  readonly handledAt?: (model: ModelKind) => 'info' | 'debug';
  /** Limits on the lines peers' input causes (rejected, dead letters without an id). */
  readonly peerInputLimit?: WarnLimiterOptions;
}

export interface ObserverLog {
  /** Stops writing lines (and writes the pending suppressed counts). */
  detach(): void;
  /** Writes the pending suppressed counts now. */
  flush(): void;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * The fields every line starts with, made only for a line that is written: most events
 * (received, handled at debug, sent) write nothing at the default level, and this listener
 * sees every one of them (in `switchyard run` it always listens).
 */
const baseOf = (e: ObserverEvent) => ({ model: e.model, service: e.service, transport: e.transport });

/** Writes the stream's log lines to `logger` from now on. */
export function observerLog(observer: Observer, logger: Logger, options: ObserverLogOptions = {}): ObserverLog {
  const handledAt = options.handledAt ?? (() => 'debug' as const);
  const peerInput = warnLimiter(logger, options.peerInputLimit);

  const onEvent = (e: ObserverEvent) => {
    switch (e.type) {
      case 'state':
        switch (e.state) {
          case 'ready':
            logger.info({
              ...baseOf(e),
              ...(e.inputs ? { inputs: e.inputs.map((edge) => edge.name) } : {}),
              ...(e.outputs ? { outputs: [...new Set(e.outputs.map((edge) => edge.name))] } : {}),
            }, `${e.model} started`);
            break;
          case 'stopped':
            peerInput.flush();
            logger.info(baseOf(e), `${e.model} stopped`);
            break;
          case 'failed':
            logger.error({ ...baseOf(e), err: e.error }, `${e.model} failed`);
            break;
          default:
            if (logger.isLevelEnabled('debug')) logger.debug(baseOf(e), `${e.model} ${e.state}`);
        }
        break;
      case 'received':
        if (logger.isLevelEnabled('debug')) logger.debug({ ...baseOf(e), input: e.input, id: e.id, attempt: e.attempt }, 'message received');
        break;
      case 'handled': {
        const level = handledAt(e.model);
        if (!logger.isLevelEnabled(level)) break;
        logger[level]({
          ...baseOf(e), input: e.input, id: e.id, ms: round(e.durationMs),
          ...(e.produced ? { produced: e.produced } : {}),
          ...(e.wrote ? { wrote: e.wrote } : {}),
        }, 'message done');
        break;
      }
      case 'failed':
        logger.warn({ ...baseOf(e), input: e.input, id: e.id, ms: round(e.durationMs), err: e.error, ...(e.retryInMs !== undefined ? { retryInMs: e.retryInMs } : {}) }, 'message failed');
        break;
      case 'dead-lettered':
        if (e.id === undefined) {
          peerInput.warn(`dead-lettered ${e.model}/${e.service}/${e.input}/${e.reasonKind}`, { ...baseOf(e), input: e.input, reasonKind: e.reasonKind, reason: e.reason }, 'message dead-lettered');
        } else {
          logger.error({ ...baseOf(e), input: e.input, id: e.id, reasonKind: e.reasonKind, reason: e.reason }, 'message dead-lettered');
        }
        break;
      case 'rejected':
        peerInput.warn(`rejected ${e.model}/${e.service}/${e.input}/${e.reason}`, { ...baseOf(e), input: e.input, reason: e.reason }, 'input rejected');
        break;
      case 'called':
        if (e.error && logger.isLevelEnabled('debug')) logger.debug({ ...baseOf(e), target: e.target, id: e.id, ms: round(e.durationMs), err: e.error }, 'call failed');
        break;
      case 'sent':
        break;
    }
  };
  const stop = observer.listen(onEvent);
  return {
    detach() {
      stop();
      peerInput.flush();
    },
    flush: () => peerInput.flush(),
  };
}
