// How the runtime runs any model: a model offers one ModelRunner, which turns the
// definitions a user's modules export into components (runtime.ts) on the transports the
// registry opens. `switchyard run` and `dev` load modules, sort the definitions by model,
// and hand each model's share to its runner; nothing above this file knows a model's
// internals, and no model knows another.

import type { ConfigSource } from '../config/config-source.js';
import type { FlagSpec } from '../config/settings/flags.js';
import type { Layer, SettingsSection } from '../config/settings/settings.js';
import type { Logger } from '../observability/logger.js';
import type { Edge, ModelKind, Observer } from '../observability/observer.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { TransportCapability, TransportRegistry } from './registry.js';
import type { Component } from './runtime.js';

/** The mark every definition carries (worker(...), apiService(...), service(...), taskService(...), defineProvider(...)). */
export const DEFINITION = Symbol.for('switchyard.definition');

export interface Marked {
  readonly [DEFINITION]: ModelKind;
}

/** Marks `value` as a definition of `model` (not enumerable: it never shows in logs or JSON). */
export function markDefinition<T extends object>(value: T, model: ModelKind): T & Marked {
  Object.defineProperty(value, DEFINITION, { value: model, enumerable: false });
  return value as T & Marked;
}

/** The model of a definition, or undefined for anything else. */
export function modelOf(value: unknown): ModelKind | undefined {
  return value !== null && typeof value === 'object' ? ((value as Partial<Marked>)[DEFINITION] ?? undefined) : undefined;
}

/** What a runner gets to build components with. Shared resources are made on first use. */
export interface RunContext<S = unknown> {
  readonly logger: Logger;
  readonly observer: Observer;
  readonly transports: TransportRegistry;
  /** The model's own settings section, resolved (flags > env > files > defaults). */
  readonly settings: S;
  /** The transport this model runs on, in the registry's vocabulary ("memory", "amqp://…", …). */
  readonly transport: string;
  /** The process's state folder (.switchyard by default). */
  readonly stateDir: string;
  /** The configuration source (system map or configuration service), for models that route by it. */
  configSource(): Promise<ConfigSource>;
  /** The object store from settings (fs by default, or S3), for models that read and write files. */
  objectStore(): Promise<ObjectStore>;
}

export interface ModelRunner<D = unknown, S = unknown> {
  readonly model: ModelKind;
  /** The model's settings section (its key in settings files, its env prefix, its zod schema). */
  readonly settings: SettingsSection;
  /** The flags `run` and `dev` take for this section (the original's spellings as aliases). */
  readonly flags?: readonly FlagSpec[];
  /**
   * Environment names the model documented before its section existed (stronger than the
   * section's SWITCHYARD_{SECTION}_{KEY} and original names, weaker than flags).
   */
  envLayers?(env: NodeJS.ProcessEnv): readonly Layer[];
  /**
   * The original system's own files as settings layers (a Lightbus bus config, a provider's
   * config file, a Core engine's .env), read once the other layers say where they are:
   * `first` is the section resolved without them. Weaker than settings files.
   */
  originalLayers?(first: S, where: { readonly env: NodeJS.ProcessEnv; readonly cwd: string; readonly logger: Logger }): Promise<readonly Layer[]>;
  /** The transport capabilities the model needs; refused at start on a transport without them. */
  readonly needs: readonly TransportCapability[];
  /**
   * The transport when settings name none: "memory" for the worker and API models (the
   * embedded default), "zeromq" for services, "unix" for providers, "http" for task services.
   */
  readonly defaultTransport: string;
  /**
   * True for models that run on the process's `transport` setting unless their own section
   * names one (the worker and API models: queues and the bus share one broker), when that
   * transport offers what the model needs; otherwise they run on `defaultTransport`.
   */
  readonly sharesProcessTransport?: boolean;
  /**
   * The level of the "message done" line the log derived from the stream writes for each
   * handled unit (observability/observer-log.ts): "info" for models whose operators read one
   * line per unit (the worker), "debug" otherwise (the default).
   */
  readonly logHandledAt?: 'info' | 'debug';
  /** The components serving these definitions, not yet started (the runtime starts them). */
  components(definitions: readonly D[], ctx: RunContext<S>): Promise<Component[]>;
  /** The edges of these definitions without running them, for `switchyard topology`. */
  edges?(definitions: readonly D[], ctx: RunContext<S>): Promise<{ readonly service: string; readonly inputs: readonly Edge[]; readonly outputs: readonly Edge[] }[]>;
}
