// The calling side of RPC: validate the parameters (against the declaration here, else the
// schema on the bus), send the call, wait up to rpc_timeout, turn an error result into
// SY_ERR_RPC_REMOTE and check the result. Reports "called" (target api.procedure) to the
// observer stream when someone watches.
//
// call() is not an async function: a suspended async frame held every local of it for the
// whole round trip, the largest single piece of a call's garbage at high rates.

import { errors } from '../../errors.js';
import { errorInfo } from '../../observability/observer.js';
import { validate } from '../../schema/mod.js';
import type { RpcCall, RpcResult } from '../../transports/bus/bus-transport.js';
import { parseRepr } from '../../transports/bus/python-repr.js';
import { uuid1 } from '../../transports/bus/uuid1.js';
import type { BusContext } from './bus-context.js';
import { kwargsToBus, toBus } from './codec.js';
import type { ApiSettings } from './settings.js';

/** What validation errors of one RPC name, made once per procedure (not per call). */
export interface RpcSubjects {
  readonly params: string;
  /** Results this process sends. */
  readonly response: string;
  /** Results this process receives. */
  readonly received: string;
}

const subjectsByApi = new Map<string, Map<string, RpcSubjects>>();

export function rpcSubjects(api: string, procedure: string): RpcSubjects {
  let ofApi = subjectsByApi.get(api);
  if (!ofApi) subjectsByApi.set(api, (ofApi = new Map()));
  let got = ofApi.get(procedure);
  if (!got) {
    const response = `RPC ${api}.${procedure}() response`;
    // A refused result is one the serving side already produced: say so, the caller must
    // not take the error for a call that did not run.
    const received = `${response} (the call ran on the serving side; its result is refused here, by validate.incoming of API ${api})`;
    ofApi.set(procedure, (got = { params: `RPC ${api}.${procedure}() parameters`, response, received }));
  }
  return got;
}

/** The setting a caller raises when an RPC takes longer than it waits, as the user knows it. */
function rpcTimeoutSetting(api: string): string {
  return `rpc_timeout (seconds: apis.${api}.rpc_timeout in a Lightbus bus config, api.apis.${api}.rpcTimeout in a settings file, SWITCHYARD_API_APIS='{"${api}":{"rpcTimeout":10}}' in the environment; settings.rpcTimeoutMs in code)`;
}

function isTimeout(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'SY_ERR_REQUEST_TIMEOUT';
}

export class RpcCaller {
  constructor(private readonly bus: BusContext) {}

  call(apiName: string, procedure: string, params: Record<string, unknown>): Promise<unknown> {
    const { bus } = this;
    let call: RpcCall;
    let settings: ApiSettings;
    try {
      bus.requireRunning('call', apiName, procedure, '()');
      settings = bus.settingsOf(apiName);
      let parsed: unknown = params;
      if (settings.validate.outgoing) {
        const schema = bus.schemas.rpcParams(apiName, procedure);
        if (schema) parsed = validate(schema.schema, schema.local ? params : toBus(params), rpcSubjects(apiName, procedure).params);
        else bus.schemas.unknownMember(apiName, procedure, 'rpc', settings);
      }
      call = { id: uuid1(), api: apiName, procedure, kwargs: kwargsToBus(parsed as Record<string, unknown>) };
      if (bus.taps.list.length > 0) for (const t of bus.taps.list) t.called?.(apiName, procedure, parsed, call.id);
    } catch (error) {
      return Promise.reject(error);
    }
    const watched = bus.emitter.active;
    const started = watched ? performance.now() : 0;
    const answer = bus
      .transportOf(apiName)
      .call(call, { timeoutMs: settings.rpcTimeoutMs })
      .then(
        (result) => this.resultOf(call, result, settings),
        (error: unknown) => {
          throw isTimeout(error) ? new errors.SY_ERR_REQUEST_TIMEOUT(`RPC ${apiName}.${procedure}()`, settings.rpcTimeoutMs, rpcTimeoutSetting(apiName)) : error;
        },
      );
    // Only a watched bus pays for the extra step that reports the outcome.
    return watched ? answer.then((value) => this.report(call, started, undefined, value), (error: unknown) => this.report(call, started, error)) : answer;
  }

  private report(call: RpcCall, started: number, error: unknown, value?: unknown): unknown {
    this.bus.emitter.emit({
      type: 'called', target: `${call.api}.${call.procedure}`, id: call.id, durationMs: performance.now() - started,
      ...(error !== undefined ? { error: errorInfo(error) } : {}),
    });
    if (error !== undefined) throw error;
    return value;
  }

  private resultOf(call: RpcCall, result: RpcResult, settings: ApiSettings): unknown {
    const { api, procedure } = call;
    const { bus } = this;
    if (bus.taps.list.length > 0) for (const t of bus.taps.list) t.resultReceived?.(api, procedure, call.id);
    if (result.error) {
      const { type, message } = parseRepr(String(result.result));
      throw new errors.SY_ERR_RPC_REMOTE(api, procedure, type, message, result.trace ?? '');
    }
    if (!settings.validate.incoming) return result.result;
    const schema = bus.schemas.rpcResult(api, procedure);
    return schema ? validate(schema, result.result, rpcSubjects(api, procedure).received) : result.result;
  }
}
