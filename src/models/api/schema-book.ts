// What a bus knows about APIs: the declarations it was given (local code) and the schemas
// other services keep on the bus (remote, turned into validators), and the schema store
// on the bus itself — those of the APIs served here are stored every ttl*0.8 s, the others'
// reloaded. Lookups return the validator of a member from local code first, else from the bus.

import type { z } from 'zod';
import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { WarnLimiter } from '../../observability/warn-limiter.js';
import type { BusTransport, StoredSchema } from '../../transports/bus/bus-transport.js';
import { schemaOfApi, validatorsOf, type RemoteApiValidators } from './api-schema.js';
import { checkApiName, type AnyApi } from './define.js';
import type { ApiSettings } from './settings.js';

export class SchemaBook {
  private readonly known = new Map<string, AnyApi>();
  private readonly remote = new Map<string, RemoteApiValidators & { schema: StoredSchema }>();
  private readonly warnedUnknown = new Set<string>();

  constructor(
    private readonly logger: Logger,
    private readonly peerWarnings: WarnLimiter,
  ) {}

  /** Makes an API's declaration known (for validation and schemas). */
  declare(api: AnyApi): void {
    const existing = this.known.get(api.name);
    if (existing && existing !== api) throw new errors.SY_ERR_API_DEFINITION(api.name, 'two different declarations of one API name were given to one bus');
    this.known.set(api.name, api);
  }

  declaration(api: string): AnyApi | undefined {
    return this.known.get(api);
  }

  isLocal(api: string): boolean {
    return this.known.has(api);
  }

  rpcParams(api: string, procedure: string): { readonly schema: z.ZodType; readonly local: boolean } | undefined {
    const decl = this.known.get(api)?.rpcs[procedure];
    if (decl) return { schema: decl.params, local: true };
    const remote = this.remote.get(api)?.rpcs[procedure];
    return remote ? { schema: remote.params, local: false } : undefined;
  }

  rpcResult(api: string, procedure: string): z.ZodType | undefined {
    return this.known.get(api)?.rpcs[procedure]?.result ?? this.remote.get(api)?.rpcs[procedure]?.result;
  }

  eventParams(api: string, event: string): { readonly schema: z.ZodType; readonly local: boolean } | undefined {
    const decl = this.known.get(api)?.events[event];
    if (decl) return { schema: decl.params, local: true };
    const remote = this.remote.get(api)?.events[event];
    return remote ? { schema: remote.params, local: false } : undefined;
  }

  /** A member with no schema anywhere: refused under strict validation, else warned about once. */
  unknownMember(api: string, member: string, kind: string, settings: ApiSettings): void {
    const what = `${kind} ${api}.${member} has no schema here or on the bus`;
    if (settings.strictValidation) throw new errors.SY_ERR_API_UNKNOWN(what, 'start the service that serves the API, give its declaration to this bus, or load its schema (switchyard schema load)');
    if (!this.warnedUnknown.has(`${api}.${member}`)) {
      this.warnedUnknown.add(`${api}.${member}`);
      this.logger.warn({ api, member }, `${what}; it is sent without validation`);
    }
  }

  /** Schemas of every API this process serves or declares, as stored on the bus. */
  localSchemas(): Record<string, StoredSchema> {
    return Object.fromEntries([...this.known.values()].map((api) => [api.name, schemaOfApi(api)]));
  }

  /** Every API schema known here: local ones and those loaded from the bus. */
  all(): Record<string, StoredSchema> {
    const out: Record<string, StoredSchema> = {};
    for (const [name, r] of this.remote) out[name] = r.schema;
    return { ...out, ...this.localSchemas() };
  }

  /** Uses schemas from a file or another source, as if loaded from the bus. */
  load(schemas: Record<string, StoredSchema>): void {
    for (const [name, schema] of Object.entries(schemas)) this.remote.set(name, { ...validatorsOf(schema), schema });
  }

  /** Stores the schemas of `served` APIs on the bus for `ttlS` seconds. */
  async store(transport: BusTransport, served: Iterable<AnyApi>, ttlS: number): Promise<void> {
    for (const api of served) await transport.storeSchema(api.name, schemaOfApi(api), ttlS);
  }

  /** Loads the schemas on the bus of every API not declared here; one that cannot be read is used without validation. */
  async loadRemote(transport: BusTransport): Promise<void> {
    const loaded = await transport.loadSchemas();
    for (const [name, schema] of Object.entries(loaded)) {
      if (this.known.has(name)) continue;
      try {
        this.remote.set(name, { ...validatorsOf(schema), schema });
      } catch (err) {
        this.peerWarnings.warn(`schema ${name}`, { err, api: name }, 'a schema on the bus could not be read; that API is used without validation');
      }
    }
  }

  /** Puts a schema on the bus as if an API's server had (e.g. from a dump file). */
  async storeOne(transport: BusTransport, api: string, schema: StoredSchema, ttlS: number): Promise<void> {
    checkApiName(api);
    await transport.storeSchema(api, schema, ttlS);
  }
}
