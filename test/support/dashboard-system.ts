// A small mixed system for dashboard tests: a real Runtime whose components are stand-ins
// that declare the edges each model declares (a worker pipeline with case routes, an API
// service with an RPC and an event, a listener, a task service) and emit, through the
// runtime's own observer, the events each model emits. The models report the same shapes
// once they are moved onto the stream; these components let the dashboard be tested on
// the contract alone.

import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger.js';
import type { Edge, Emitter, EventSource, ModelKind } from '../../src/observability/observer.js';
import { Runtime, type Component } from '../../src/runtime/runtime.js';

export const quietLogger = () => createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

export interface StandIn extends Component {
  readonly emitter: Emitter;
}

export interface MixedSystem {
  readonly runtime: Runtime;
  readonly parts: Record<'ingest' | 'classify' | 'answer' | 'calc' | 'audit' | 'stats', StandIn>;
  /** One message through the pipeline: ingest handles `id` and produces id+1000 to classify, which routes it to answer. */
  pipeline(id: number, options?: { durationMs?: number }): void;
  /** One RPC call answered by calc, which fires an event audit handles. */
  call(id: string): void;
  /** classify gives up on a message: dead-lettered with the reason. */
  deadLetter(id: number, reason: string): void;
}

function standIn(runtime: Runtime, model: ModelKind, service: string, transport: string, inputs: Edge[], outputs: Edge[]): StandIn {
  const source: EventSource = { model, service, transport };
  return {
    source,
    emitter: runtime.emitterFor(source),
    start: async () => undefined,
    stop: async () => undefined,
    edges: () => ({ inputs, outputs }),
  };
}

/** Builds the system and starts its runtime (stop it with runtime.stop()). */
export async function mixedSystem(runtime = new Runtime({ logger: quietLogger() })): Promise<MixedSystem> {
  const parts = {
    ingest: standIn(runtime, 'worker', 'ingest', 'memory', [{ kind: 'queue', name: 'ingest-in' }], [
      { kind: 'queue', name: 'classify-in', label: 'true' },
      { kind: 'queue', name: 'empty-inputs', label: 'false' },
    ]),
    classify: standIn(runtime, 'worker', 'classify', 'memory', [{ kind: 'queue', name: 'classify-in' }], [
      { kind: 'queue', name: 'answer-in', label: 'question' },
      { kind: 'queue', name: 'summaries', label: 'statement' },
    ]),
    answer: standIn(runtime, 'worker', 'answer', 'memory', [{ kind: 'queue', name: 'answer-in' }], [{ kind: 'rpc', name: 'calc.add' }]),
    calc: standIn(runtime, 'api', 'calc', 'redis', [{ kind: 'rpc', name: 'calc.add' }], [{ kind: 'event', name: 'calc.added' }]),
    audit: standIn(runtime, 'api', 'audit', 'redis', [{ kind: 'event', name: 'calc.added' }], []),
    stats: standIn(runtime, 'task', 'text-stats', 'http', [{ kind: 'http', name: 'POST /compute' }], []),
  };
  for (const part of Object.values(parts)) await runtime.add(part);
  await runtime.start();
  return {
    runtime,
    parts,
    pipeline(id, { durationMs = 4 } = {}) {
      const result = String(id + 1000);
      parts.ingest.emitter.emit({ type: 'received', input: 'ingest-in', id: String(id), attempt: 1 });
      parts.ingest.emitter.emit({ type: 'handled', input: 'ingest-in', id: String(id), durationMs, produced: [{ output: 'classify-in', id: result, label: 'true' }] });
      parts.classify.emitter.emit({ type: 'received', input: 'classify-in', id: result, attempt: 1 });
      parts.classify.emitter.emit({ type: 'handled', input: 'classify-in', id: result, durationMs: durationMs * 2, produced: [{ output: 'answer-in', id: result, label: 'question' }] });
    },
    call(id) {
      parts.calc.emitter.emit({ type: 'received', input: 'calc.add', id, attempt: 1 });
      parts.calc.emitter.emit({ type: 'handled', input: 'calc.add', id, durationMs: 1 });
      parts.calc.emitter.emit({ type: 'sent', output: 'calc.added', id: `${id}-event` });
      parts.answer.emitter.emit({ type: 'called', target: 'calc.add', id, durationMs: 2 });
      parts.audit.emitter.emit({ type: 'received', input: 'calc.added', id: `${id}-event`, attempt: 1 });
      parts.audit.emitter.emit({ type: 'handled', input: 'calc.added', id: `${id}-event`, durationMs: 1 });
    },
    deadLetter(id, reason) {
      const sid = String(id);
      parts.classify.emitter.emit({ type: 'received', input: 'classify-in', id: sid, attempt: 3 });
      parts.classify.emitter.emit({ type: 'dead-lettered', input: 'classify-in', id: sid, reason, reasonKind: 'gave-up' });
    },
  };
}
