// Declaring an API once: its name, its RPC procedures with parameter and result schemas,
// its events with parameter schemas. Every TypeScript type of calls, results and listener
// arguments is inferred from these zod schemas; JSON Schema is made from them too.

import { z } from 'zod';
import { errors } from '../../errors.js';
import { rejectZod3 } from '../../schema/zod-version.js';

/** Parameters are always an object of named values (Lightbus kwargs). */
export type ParamsSchema = z.ZodObject<z.ZodRawShape>;

export interface RpcDeclaration<P extends ParamsSchema = ParamsSchema, R extends z.ZodType = z.ZodType> {
  readonly params: P;
  readonly result: R;
  readonly description?: string;
}

export interface EventDeclaration<P extends ParamsSchema = ParamsSchema> {
  readonly params: P;
  readonly description?: string;
}

export type RpcMap = Record<string, RpcDeclaration>;
export type EventMap = Record<string, EventDeclaration>;

export interface Api<R extends RpcMap = RpcMap, E extends EventMap = EventMap> {
  readonly kind: 'switchyard.api';
  readonly name: string;
  /** Carried on every event as `version` (Lightbus Meta.version). */
  readonly version: number;
  readonly rpcs: R;
  readonly events: E;
}

export type AnyApi = Api<RpcMap, EventMap>;
export type ParamsOf<D extends { params: ParamsSchema }> = z.input<D['params']>;
export type ParsedParamsOf<D extends { params: ParamsSchema }> = z.output<D['params']>;
export type ResultOf<D extends RpcDeclaration> = z.output<D['result']>;
export type ResultInputOf<D extends RpcDeclaration> = z.input<D['result']>;

// Names follow Lightbus's rules so that a Python service can serve or call the same API:
// members are identifiers that do not start with "_"; API names are dotted identifiers and
// "default" is reserved for configuration.
const MEMBER_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const API_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function checkApiName(name: string): void {
  if (typeof name !== 'string' || !API_NAME.test(name)) {
    throw new errors.SY_ERR_API_DEFINITION(String(name), 'the name must be dotted identifiers such as "my_company.auth"');
  }
  if (name === 'default' || name.startsWith('default.')) {
    throw new errors.SY_ERR_API_DEFINITION(name, '"default" is reserved for the configuration of every API; pick another name');
  }
}

function checkMembers(api: string, kind: 'rpc' | 'event', members: Record<string, { params?: unknown; result?: unknown }>): void {
  for (const [name, decl] of Object.entries(members)) {
    if (!MEMBER_NAME.test(name)) {
      throw new errors.SY_ERR_API_DEFINITION(api, `${kind} name "${name}" must start with a letter and hold only letters, digits and "_"`);
    }
    // A zod 3 schema fails the instanceof checks below with a message about the wrong thing.
    rejectZod3(decl?.params, `api "${api}" ${kind} "${name}" params`);
    if (kind === 'rpc') rejectZod3(decl?.result, `api "${api}" rpc "${name}" result`);
    if (!(decl?.params instanceof z.ZodObject)) {
      throw new errors.SY_ERR_API_DEFINITION(api, `${kind} "${name}" needs params: z.object({...}) (parameters are named)`);
    }
    if (kind === 'rpc' && !(decl.result instanceof z.ZodType)) {
      throw new errors.SY_ERR_API_DEFINITION(api, `rpc "${name}" needs result: a zod schema (z.void() for none)`);
    }
  }
}

/**
 * Declares an API. Member names are the names on the wire, so a Python Lightbus service
 * with the same API name and members interoperates.
 *
 *     const auth = defineApi({
 *       name: 'my_company.auth',
 *       rpcs: { check_password: { params: z.object({ username: z.string(), password: z.string() }), result: z.boolean() } },
 *       events: { user_registered: { params: z.object({ username: z.string() }) } },
 *     });
 */
export function defineApi<const R extends RpcMap = {}, const E extends EventMap = {}>(declaration: {
  name: string;
  version?: number;
  rpcs?: R;
  events?: E;
}): Api<R, E> {
  const { name } = declaration;
  checkApiName(name);
  const rpcs = (declaration.rpcs ?? {}) as R;
  const events = (declaration.events ?? {}) as E;
  checkMembers(name, 'rpc', rpcs);
  checkMembers(name, 'event', events);
  for (const member of Object.keys(rpcs)) {
    if (member in events) throw new errors.SY_ERR_API_DEFINITION(name, `"${member}" is both an rpc and an event; give them different names`);
  }
  const version = declaration.version ?? 1;
  if (!Number.isInteger(version) || version < 1) throw new errors.SY_ERR_API_DEFINITION(name, `version must be an integer ≥ 1, got ${version}`);
  return Object.freeze({ kind: 'switchyard.api', name, version, rpcs, events });
}

export function isApi(value: unknown): value is AnyApi {
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === 'switchyard.api';
}
