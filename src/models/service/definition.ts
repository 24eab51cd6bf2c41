// What a service module declares (SPECS.md §2.2–2.5, DESIGN.md "service"): connection models,
// state models, a config model, a handler per inbound connection, optional setup hooks, a
// SIGINT handler and, for leading-edge services, `main`. A module exports it as its default:
//
//   export default service({ connections: { in: { cancel_order: replyer({...}, onCancel) } } })
//
// Names follow the original in camelCase (connection_type → connectionType, on_new_request →
// onNewRequest, required_arguments → requiredArguments, ...).

import { markDefinition, modelOf } from '../../runtime/model.js';
import type { z } from '../../schema/mod.js';
import { rejectZod3Within } from '../../schema/zod-version.js';
import type { InferArgs } from './type-grammar.js';

export type Args = Record<string, unknown>;
export type Config = Record<string, unknown>;
/** The current value of every inbound state, by name (a delta state: its dict; a full state: the last args). */
export type StatesView = Record<string, unknown>;

/**
 * Sends to an outbound connection or updates an outbound state. Resolves with the reply's
 * return_args for a requester or an external request, `{}` otherwise.
 */
export type ToSend = (kind: 'connection' | 'state', name: string, args: Args) => Promise<Args>;

/**
 * What a send carries: the model's declared args (a zod schema's input, or the grammar's
 * required and optional keys); keys it does not declare pass, as in the original.
 */
export type SendArgsOf<M> = M extends { arguments: infer S extends z.ZodType } ? z.input<S>
  : InferArgs<M extends { requiredArguments: infer R } ? R : unknown, M extends { optionalArguments: infer O } ? O : unknown> & Args;
/** What a send to an outbound connection resolves with: a requester's or external request's declared return args. */
export type ReplyOf<M> = M extends { returnArguments: infer S extends z.ZodType } ? z.output<S>
  : M extends { requiredReturnArguments: infer R } ? InferArgs<R, M extends { optionalReturnArguments: infer O } ? O : unknown> & Args
  : M extends { optionalReturnArguments: infer O } ? InferArgs<unknown, O> : Args;
/** A delta state's update may also say its number and whether it is a snapshot (SPECS.md §2.3). */
type StateArgsOf<M> = SendArgsOf<M> & (M extends { stateType: 'delta_update_out' } ? { current_num?: number; is_snapshot?: boolean } : unknown);

/**
 * toSend typed from a service's declared outbound connections (CO) and states (SO): a name
 * that is not declared, or args of the wrong type, fail to compile (untyped, as ToSend, when
 * the names are not known to the compiler: a Record<string, ...> of models). service() gives `main`
 * and `sigintHandler` this type; a handler declared apart annotates its parameter with it:
 *
 *     const out = { quote: requester({ requiredArguments: { symbol: t.str } }) };
 *     replyer({...}, async (args, toSend: ToSendOf<typeof out>) => { await toSend('connection', 'quote', { symbol: 'X' }); ... })
 */
export type ToSendOf<CO = {}, SO = {}> = string extends keyof CO ? ToSend : string extends keyof SO ? ToSend : TypedToSend<CO, SO>;

/** ToSendOf for declared (literal) names. */
export interface TypedToSend<CO, SO> {
  <N extends keyof CO & string>(kind: 'connection', name: N, args: SendArgsOf<CO[N]>): Promise<ReplyOf<CO[N]>>;
  <N extends keyof SO & string>(kind: 'state', name: N, args: StateArgsOf<SO[N]>): Promise<Args>;
}

export type Handler<A = Args, R = Args | void, S = ToSend> = (args: A, toSend: S, states: StatesView, config: Config) => R | Promise<R>;

/** The arguments a connection or state carries: a zod schema, or the original's required/optional grammar. */
export interface ArgsModel {
  /** A zod schema of the args (then requiredArguments/optionalArguments are not used). */
  readonly arguments?: z.ZodType;
  readonly requiredArguments?: Readonly<Record<string, unknown>>;
  readonly optionalArguments?: Readonly<Record<string, unknown>>;
}

export interface ReturnModel {
  readonly returnArguments?: z.ZodType;
  readonly requiredReturnArguments?: Readonly<Record<string, unknown>>;
  readonly optionalReturnArguments?: Readonly<Record<string, unknown>>;
}

/** The args type a model declares. */
export type ArgsOf<M> = M extends { arguments: infer S extends z.ZodType } ? z.output<S>
  : InferArgs<M extends { requiredArguments: infer R } ? R : unknown, M extends { optionalArguments: infer O } ? O : unknown>;
export type ReturnOf<M> = M extends { returnArguments: infer S extends z.ZodType } ? z.input<S>
  : M extends { requiredReturnArguments: infer R } ? InferArgs<R, M extends { optionalReturnArguments: infer O } ? O : unknown>
  : M extends { optionalReturnArguments: infer O } ? InferArgs<unknown, O> : Args | void;

export interface ReplyerModel<S = ToSend> extends ArgsModel, ReturnModel {
  readonly connectionType: 'replyer';
  readonly onNewRequest: Handler<never, unknown, S>;
}
export interface SubscriberModel<S = ToSend> extends ArgsModel {
  readonly connectionType: 'subscriber';
  readonly onNewMessage: Handler<never, unknown, S>;
  /** Only frames published with this topic (a single-frame msgpack prefix). */
  readonly topic?: string;
}
export interface RequesterModel extends ArgsModel, ReturnModel {
  readonly connectionType: 'requester';
  /** Give up on a reply after this long (SY_ERR_REQUEST_TIMEOUT). Default: wait forever, as the original. */
  readonly timeoutMs?: number;
  /**
   * Without timeoutMs: log a warning naming this connection and its address when a reply has
   * not come after this long (the request keeps waiting). Default 10000.
   */
  readonly warnAfterMs?: number;
}
export interface PublisherModel extends ArgsModel {
  readonly connectionType: 'publisher';
  readonly topic?: string;
  /** Connect to an XSUB/XPUB proxy's frontend instead of binding (the original's is_x_pub). */
  readonly isXPub?: boolean;
  /** Seconds to wait after creation so subscribers can join (ZeroMQ's slow joiner). Default 0.15. */
  readonly waitAfterCreationS?: number;
}
export interface ExternalRequestModel extends ArgsModel, ReturnModel {
  readonly connectionType: 'external_request';
  /** Called with the args in place of a socket; its result is the return args. */
  readonly funcToCall: (args: never) => unknown;
}

export type InConnectionModel<S = ToSend> = ReplyerModel<S> | SubscriberModel<S>;
export type OutConnectionModel = RequesterModel | PublisherModel | ExternalRequestModel;

export interface InStateModel extends ArgsModel {
  readonly stateType: 'full_update_in' | 'delta_update_in';
  /** Only updates published with this topic (the original's optional creation argument `topic`). */
  readonly topic?: string;
  /** delta_update_in: give up on a snapshot request after this long (default 10000; the original waits forever). */
  readonly snapshotTimeoutMs?: number;
}
export interface OutStateModel extends ArgsModel {
  readonly stateType: 'full_update_out' | 'delta_update_out';
  /** Publish every update with this topic prefix (the snapshot replyer has none, as in the original). */
  readonly topic?: string;
  /** Connect the publisher to an XSUB/XPUB proxy's frontend instead of binding (the original's is_x_pub). */
  readonly isXPub?: boolean;
  /** Seconds to wait after creation so subscribers can join. Default 0.15. */
  readonly waitAfterCreationS?: number;
}

export interface ConnectionModels {
  readonly in?: Readonly<Record<string, InConnectionModel>>;
  readonly out?: Readonly<Record<string, OutConnectionModel>>;
}
export interface StateModels {
  readonly in?: Readonly<Record<string, InStateModel>>;
  readonly out?: Readonly<Record<string, OutStateModel>>;
}

/** The config model: the original's {required, optional} grammar, or a zod schema. */
export type ConfigModel = { readonly required?: Readonly<Record<string, unknown>>; readonly optional?: Readonly<Record<string, unknown>> } | z.ZodType;

/** addresses.json of 0.0.19+, without states: `{in: {name: {replyer: "host:port"}}, out: {...}}`. */
export interface FlatAddresses {
  in?: Record<string, Record<string, string>>;
  out?: Record<string, Record<string, string>>;
}

/** addresses.json: `{connections: {in: {name: {replyer: "host:port"}}, out: {...}}, states: {in, out}}`. */
export interface Addresses {
  connections?: { in?: Record<string, Record<string, string>>; out?: Record<string, Record<string, string>> };
  states?: { in?: Record<string, Record<string, string>>; out?: Record<string, Record<string, string>> };
}

export interface ServiceDefinition {
  readonly kind: 'switchyard.service';
  /** For logs; the CLI uses the module's file name when absent. */
  readonly name?: string;
  readonly connections?: ConnectionModels;
  readonly states?: StateModels;
  readonly config?: ConfigModel;
  /** setup_config: may change the config before it is validated; returns the config. */
  readonly setupConfig?: (config: Config) => Config | Promise<Config>;
  /** setup_addresses: gets addresses.json as it is (nested, or flat as in 0.0.19+) and returns the addresses to use. */
  readonly setupAddresses?: (addresses: Addresses | FlatAddresses, config: Config) => Addresses | FlatAddresses | Promise<Addresses | FlatAddresses>;
  /** setup_connection_models: returns the connection models to use. */
  readonly setupConnections?: (models: ConnectionModels, config: Config) => ConnectionModels | Promise<ConnectionModels>;
  /** setup_state_models: returns the state models to use. */
  readonly setupStates?: (models: StateModels, config: Config) => StateModels | Promise<StateModels>;
  /** Called on SIGINT before the service stops (the original's sigint_handler, without the frame). */
  readonly sigintHandler?: (signal: NodeJS.Signals, toSend: ToSend, states: StatesView, config: Config) => void | Promise<void>;
  /** Main mode (-m): runs once; the service stops when it returns. */
  readonly main?: (toSend: ToSend, config: Config) => void | Promise<void>;
}

/**
 * What service() takes: a ServiceDefinition whose `main` and `sigintHandler` get a toSend
 * typed from the declared outbound connections (CO) and states (SO), and whose inbound
 * handlers take either the untyped toSend or that typed one (ToSendOf).
 */
export type ServiceInput<CO = Readonly<Record<string, OutConnectionModel>>, SO = Readonly<Record<string, OutStateModel>>> =
  Omit<ServiceDefinition, 'kind' | 'connections' | 'states' | 'main' | 'sigintHandler'> & {
    readonly connections?: {
      readonly in?: Readonly<Record<string, InConnectionModel | InConnectionModel<ToSendOf<CO, SO>>>>;
      readonly out?: CO;
    };
    readonly states?: { readonly in?: Readonly<Record<string, InStateModel>>; readonly out?: SO };
    readonly sigintHandler?: (signal: NodeJS.Signals, toSend: ToSendOf<CO, SO>, states: StatesView, config: Config) => void | Promise<void>;
    readonly main?: (toSend: ToSendOf<CO, SO>, config: Config) => void | Promise<void>;
  };

/** Declares a service; export it as the module's default. Marked as the service model's (runtime/model.ts). */
export function service<
  const CO extends Readonly<Record<string, OutConnectionModel>> = {},
  const SO extends Readonly<Record<string, OutStateModel>> = {},
>(definition: ServiceInput<CO, SO>): ServiceDefinition {
  const place = `service${definition.name ? ` "${definition.name}"` : ''}`;
  rejectZod3Within(definition.connections, `${place} connections`);
  rejectZod3Within(definition.states, `${place} states`);
  rejectZod3Within(definition.config, `${place} config`);
  // The typed toSend is the untyped one at run time (outbound.ts checks names and args there too).
  return markDefinition({ ...(definition as Omit<ServiceDefinition, 'kind'>), kind: 'switchyard.service' as const }, 'service');
}

/** A definition made by service(): marked "service" (or, from an older build, kind "switchyard.service"). */
export function isServiceDefinition(value: unknown): value is ServiceDefinition {
  return modelOf(value) === 'service' || (typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'switchyard.service');
}

// ---- typed helpers: the handler's args are inferred from the model

type ModelFields<M> = Omit<M, 'connectionType' | 'onNewRequest' | 'onNewMessage'>;

/** A replyer (REP): `onNewRequest` answers every request; its result is the return_args. */
export function replyer<const M extends ArgsModel & ReturnModel, S = ToSend>(model: M, onNewRequest: Handler<ArgsOf<M>, ReturnOf<M>, S>): ReplyerModel<S> & ModelFields<M> {
  return { ...model, connectionType: 'replyer', onNewRequest: onNewRequest as Handler<never, unknown, S> };
}

/** A subscriber (SUB): `onNewMessage` gets every published message (of `topic`, when given). */
export function subscriber<const M extends ArgsModel & { topic?: string }, S = ToSend>(model: M, onNewMessage: Handler<ArgsOf<M>, unknown, S>): SubscriberModel<S> & ModelFields<M> {
  return { ...model, connectionType: 'subscriber', onNewMessage: onNewMessage as Handler<never, unknown, S> };
}

export function requester<const M extends ArgsModel & ReturnModel & { timeoutMs?: number; warnAfterMs?: number }>(model: M = {} as M): RequesterModel & M {
  return { ...model, connectionType: 'requester' };
}

export function publisher<const M extends ArgsModel & { topic?: string; isXPub?: boolean; waitAfterCreationS?: number }>(model: M = {} as M): PublisherModel & M {
  return { ...model, connectionType: 'publisher' };
}

export function externalRequest<const M extends ArgsModel & ReturnModel>(model: M, funcToCall: (args: ArgsOf<M>) => ReturnOf<M> | Promise<ReturnOf<M>>): ExternalRequestModel & M {
  return { ...model, connectionType: 'external_request', funcToCall: funcToCall as (args: never) => unknown };
}
