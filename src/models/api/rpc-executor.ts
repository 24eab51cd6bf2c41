// The serving side of RPC: the APIs this process serves, with their implementations; each
// call that arrives is validated, run, and answered with its result (checked against the
// declaration) or an error result carrying the error's description and, when allowed, its
// trace. RPC is at most once: a failed call is answered with the error, never retried.
//
// Reports to the observer stream, per call: "received" (input api.procedure), then
// "handled" or "failed"; a call to a procedure this process does not serve is "rejected"
// (input: the API, which is served here, so the label stays bounded).
//
// execute() is not an async function, for the reason given in rpc-caller.ts; a handler that
// answers at once (not a promise) gets its result returned at once, without waiting a turn.

import type { z } from 'zod';
import { errors } from '../../errors.js';
import { errorInfo } from '../../observability/observer.js';
import { traceOnce } from '../../observability/trace-once.js';
import { validate } from '../../schema/mod.js';
import type { Subscription } from '../../transports/transport.js';
import type { BusTransport, MalformedEntry, RpcCall, RpcResult } from '../../transports/bus/bus-transport.js';
import { reprOf } from '../../transports/bus/python-repr.js';
import type { BusContext } from './bus-context.js';
import { toBus } from './codec.js';
import type { AnyApi } from './define.js';
import { rpcSubjects } from './rpc-caller.js';
import type { ApiSettings } from './settings.js';

export interface RpcContext {
  readonly api: string;
  readonly procedure: string;
  readonly id: string;
}

type ProcedureFn = (params: never, context: RpcContext) => unknown;

/** One served procedure, with what each call needs made once. */
interface Procedure {
  readonly fn: ProcedureFn;
  readonly params: z.ZodType;
  readonly result: z.ZodType;
  /** Its input name in the observer stream: "api.procedure". */
  readonly input: string;
}

interface Served {
  readonly api: AnyApi;
  readonly procedures: ReadonlyMap<string, Procedure>;
}

export class RpcExecutor {
  private readonly served = new Map<string, Served>();
  private readonly servers: Subscription[] = [];
  /** A procedure failing on every call (its responder unreachable): one line each, the stack trace once. */
  private readonly trace = traceOnce();

  constructor(
    private readonly bus: BusContext,
    /** Whether error results carry the error's stack trace to the caller. */
    private readonly remoteTraces: boolean,
  ) {}

  /** Checks the implementation against the declaration and keeps it; serve it with start(). */
  add(api: AnyApi, implementation: Record<string, unknown>): void {
    if (this.served.has(api.name)) throw new errors.SY_ERR_API_DEFINITION(api.name, 'it is already served by this bus; call serve() once per API');
    for (const name of Object.keys(api.rpcs)) {
      if (typeof implementation[name] !== 'function') throw new errors.SY_ERR_API_DEFINITION(api.name, `the implementation has no function for rpc "${name}"`);
    }
    for (const name of Object.keys(implementation)) {
      if (!(name in api.rpcs)) throw new errors.SY_ERR_API_DEFINITION(api.name, `the implementation has "${name}", which the API does not declare as an rpc`);
    }
    const procedures = new Map<string, Procedure>();
    for (const [name, decl] of Object.entries(api.rpcs)) {
      procedures.set(name, { fn: implementation[name] as ProcedureFn, params: decl.params, result: decl.result, input: `${api.name}.${name}` });
    }
    this.served.set(api.name, { api, procedures });
  }

  has(api: string): boolean {
    return this.served.has(api);
  }

  apis(): AnyApi[] {
    return [...this.served.values()].map((s) => s.api);
  }

  /** The input names of every served procedure ("api.procedure"). */
  inputs(): string[] {
    return [...this.served.values()].flatMap((s) => [...s.procedures.values()].map((p) => p.input));
  }

  /** Starts taking the calls of these APIs (all served ones by default), one server per transport. */
  async start(apis: readonly string[] = [...this.served.keys()]): Promise<void> {
    const byTransport = new Map<BusTransport, string[]>();
    for (const api of apis) {
      const t = this.bus.transportOf(api);
      byTransport.set(t, [...(byTransport.get(t) ?? []), api]);
    }
    for (const [t, names] of byTransport) this.servers.push(await t.serve(names, (call) => this.execute(call), { onMalformed: (m) => this.malformed(m) }));
  }

  /** Stops taking calls; calls running finish and are answered. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((s) => s.stop()));
  }

  private malformed(entry: MalformedEntry): void {
    const api = [...this.served.keys()].find((a) => entry.source.startsWith(`${a}:`)) ?? 'rpc';
    if (this.bus.emitter.active) this.bus.emitter.emit({ type: 'rejected', input: api, reason: 'unreadable call' });
    this.bus.peerWarnings.warn(`unreadable call ${api}`, { source: entry.source, reason: entry.reason }, 'an RPC call could not be read; it was not run');
  }

  execute(call: RpcCall): RpcResult | Promise<RpcResult> {
    const { bus } = this;
    const procedure = this.served.get(call.api)?.procedures.get(call.procedure);
    if (!procedure) {
      if (bus.emitter.active) bus.emitter.emit({ type: 'rejected', input: this.served.has(call.api) ? call.api : 'rpc', reason: 'unknown procedure' });
      const unknown = new errors.SY_ERR_API_UNKNOWN(`this process does not serve ${call.api}.${call.procedure}()`, 'check the API and procedure names');
      return { rpcId: call.id, error: true, result: reprOf(unknown), trace: '' };
    }
    const started = bus.emitter.active ? this.received(procedure, call) : 0;
    const settings = bus.settingsOf(call.api);
    let answer: unknown;
    try {
      const params = settings.validate.incoming ? validate(procedure.params, call.kwargs, rpcSubjects(call.api, call.procedure).params) : call.kwargs;
      if (bus.taps.list.length > 0) for (const t of bus.taps.list) t.executing?.(call.api, call.procedure, params, call.id);
      answer = procedure.fn(params as never, { api: call.api, procedure: call.procedure, id: call.id });
    } catch (error) {
      return this.failed(procedure, call, error, started);
    }
    if (!isThenable(answer)) return this.answered(procedure, call, answer, settings, started);
    return Promise.resolve(answer).then(
      (result) => this.answered(procedure, call, result, settings, started),
      (error: unknown) => this.failed(procedure, call, error, started),
    );
  }

  /** Reports the arrival; returns the time it started (0 when nobody watches). */
  private received(procedure: Procedure, call: RpcCall): number {
    this.bus.emitter.emit({ type: 'received', input: procedure.input, id: call.id, attempt: 1 });
    return performance.now();
  }

  private answered(procedure: Procedure, call: RpcCall, answer: unknown, settings: ApiSettings, started: number): RpcResult {
    let result: unknown;
    try {
      result = settings.validate.outgoing ? validate(procedure.result, answer, rpcSubjects(call.api, call.procedure).response) : answer;
      if (this.bus.taps.list.length > 0) for (const t of this.bus.taps.list) t.responding?.(call.api, call.procedure, call.id, result);
    } catch (error) {
      return this.failed(procedure, call, error, started);
    }
    if (started !== 0) this.bus.emitter.emit({ type: 'handled', input: procedure.input, id: call.id, durationMs: performance.now() - started });
    return { rpcId: call.id, error: false, result: toBus(result) };
  }

  private failed(procedure: Procedure, call: RpcCall, error: unknown, started: number): RpcResult {
    // A caller can make every call fail (bad parameters): a few lines per procedure per window.
    this.bus.peerWarnings.warn(`rpc ${procedure.input}`, { err: this.trace(error), api: call.api, procedure: call.procedure, id: call.id }, `RPC ${procedure.input}() failed; the error goes back to the caller`);
    if (started !== 0) this.bus.emitter.emit({ type: 'failed', input: procedure.input, id: call.id, durationMs: performance.now() - started, error: errorInfo(error) });
    const trace = this.remoteTraces && error instanceof Error ? (error.stack ?? '') : '';
    return { rpcId: call.id, error: true, result: reprOf(error), trace };
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}
