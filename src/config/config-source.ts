// What a model needs from configuration, whatever serves it: slingshot's configuration
// service over HTTP (config-client.ts) or a system-map file read in-process (sysmap.ts).
// Shapes follow SPECS.md §1.2-1.4.

/** A routing case as written in configuration: a JSON bool, integer or string. */
export type CaseValue = boolean | number | bigint | string;

export interface OutboundCase {
  readonly case: CaseValue;
  readonly queues: readonly string[];
}

/** GET {host}/{service} → {"in": ..., "out": [{"case": ..., "queues": [...]}]} */
export interface QueueConfig {
  readonly in: string;
  readonly out: readonly OutboundCase[];
}

/**
 * Where an endpoint's secret references came from. A file or flag the operator wrote may
 * use any form (pass:, env:, file:); a configuration service over the network may name
 * GNU pass entries only, as slingshot's does, so that its answer can never make a process
 * read a local file or environment variable (and send it to a host the answer names).
 */
export interface RefOrigin {
  /** The URL of the configuration service that answered; undefined for local configuration. */
  readonly remoteUrl?: string;
}

/** GET {host}/rabbitmq: every field a one-element array; `pass` is a secret reference. */
export interface RabbitMqEndpoint extends RefOrigin {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** A secret reference: a bare `pass` entry name (slingshot), or pass:/env:/file: (local configuration only). */
  readonly passwordRef: string;
}

/** GET {host}/object-storage: `pass:access-key` and `pass:secret-key` are secret references. */
export interface ObjectStorageEndpoint extends RefOrigin {
  readonly host: string;
  readonly accessKeyRef: string;
  readonly secretKeyRef: string;
}

/** How a queue is declared on a broker (SPECS.md §1.5: slingshot uses durable=false, no arguments). */
export interface QueueDeclaration {
  readonly durable: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** slingshot's queue.declare flags (lapin's defaults): durable=false, no arguments. */
export const SLINGSHOT_QUEUE_FLAGS: QueueDeclaration = Object.freeze({ durable: false, arguments: Object.freeze({}) });

export interface ConfigSource {
  /**
   * Declaration flags for a queue, or undefined when the configuration says nothing about
   * it. Not part of slingshot's service: Switchyard's config server answers
   * GET /queue-declarations when its map declares flags; slingshot's has no such endpoint.
   */
  queueDeclaration(queue: string): Promise<QueueDeclaration | undefined>;
  queueConfig(service: string): Promise<QueueConfig>;
  /** The bucket name an alias of `service` stands for (GET {host}/{service}/{alias}). */
  bucket(service: string, alias: string): Promise<string>;
  rabbitmq(): Promise<RabbitMqEndpoint>;
  objectStorage(): Promise<ObjectStorageEndpoint>;
}
