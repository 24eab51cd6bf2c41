// What services run on, from the process settings: the configuration source (a system map
// or slingshot's configuration service), the object store (fs or S3) and the transport
// spec each model hands the registry. Broker and storage endpoints come from settings or
// from the configuration service (/rabbitmq, /object-storage), passwords and keys from
// secret references. Adapters load only when chosen: a memory worker never loads the AWS SDK.

import { resolve } from 'node:path';
import { HttpConfigSource } from '../config/config-client.js';
import type { ConfigSource } from '../config/config-source.js';
import { resolveEndpointSecret, resolveSecret } from '../config/secrets.js';
import { loadSysMap, MapConfigSource } from '../config/sysmap.js';
import { errors } from '../errors.js';
import type { ModelRunner } from '../runtime/model.js';
import { capabilitiesOf, TransportRegistry } from '../runtime/registry.js';
import type { Logger } from '../observability/logger.js';
import type { Transport } from '../transports/transport.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { ProcessSettings } from './process-settings.js';

export function storageDirOf(settings: ProcessSettings): string {
  return resolve(settings.storageDir ?? `${settings.stateDir}/storage`);
}

/** The configuration a service reads: a system-map file in-process, or a configuration service. */
export async function createConfigSource(settings: ProcessSettings): Promise<ConfigSource> {
  if (settings.map && settings.configHost) {
    throw new errors.SY_ERR_SETTINGS('give either --map (a system-map file) or --config-host (a configuration service), not both');
  }
  if (settings.map) return new MapConfigSource(await loadSysMap(settings.map));
  if (settings.configHost) {
    return new HttpConfigSource({
      host: settings.configHost,
      ...(settings.rabbitmqConfigUrl ? { rabbitmqUrl: settings.rabbitmqConfigUrl } : {}),
      ...(settings.objectStorageConfigUrl ? { objectStorageUrl: settings.objectStorageConfigUrl } : {}),
      ...(settings.configMaxResponseBytes ? { maxResponseBytes: settings.configMaxResponseBytes } : {}),
    });
  }
  throw new errors.SY_ERR_SETTINGS('no configuration: give --map sysmap.yaml (or SWITCHYARD_MAP), or --config-host URL (or SWITCHYARD_CONFIG_HOST)');
}

/** createConfigSource once, on first use: `put --bucket` or a broker URL in settings may need none. */
export function lazyConfigSource(settings: ProcessSettings): () => Promise<ConfigSource> {
  let source: Promise<ConfigSource> | undefined;
  return () => (source ??= createConfigSource(settings));
}

export async function createStore(settings: ProcessSettings, config: () => Promise<ConfigSource>): Promise<ObjectStore> {
  if (settings.storage === 'fs') {
    const { FsObjectStore } = await import('../storage/fs/mod.js');
    return new FsObjectStore({ root: storageDirOf(settings) });
  }
  const { S3ObjectStore, s3StoreOptionsFromEndpoint } = await import('../storage/s3/mod.js').catch((err: unknown) => {
    throw (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' ? new errors.SY_ERR_ADAPTER_MISSING('s3', ['@aws-sdk/client-s3', '@aws-sdk/lib-storage']) : err;
  });
  if (settings.s3Endpoint) {
    if (!settings.s3AccessKey || !settings.s3SecretKey) {
      throw new errors.SY_ERR_SETTINGS('with s3Endpoint, give s3AccessKey and s3SecretKey as secret references (pass:NAME, env:NAME or file:PATH)');
    }
    return new S3ObjectStore({
      endpoint: settings.s3Endpoint,
      region: settings.s3Region,
      accessKeyId: (await resolveSecret(settings.s3AccessKey)).reveal(),
      secretAccessKey: (await resolveSecret(settings.s3SecretKey)).reveal(),
    });
  }
  const endpoint = await (await config()).objectStorage();
  // Only pass entries when the endpoint came from a remote configuration service.
  const [accessKey, secretKey] = await Promise.all([resolveEndpointSecret(endpoint.accessKeyRef, endpoint), resolveEndpointSecret(endpoint.secretKeyRef, endpoint)]);
  return new S3ObjectStore(s3StoreOptionsFromEndpoint(endpoint.host, accessKey.reveal(), secretKey.reveal(), { region: settings.s3Region }));
}

/** The broker URL with its password: from settings, or from GET /rabbitmq (SPECS.md §1.3). */
async function amqpUrl(settings: ProcessSettings, config: () => Promise<ConfigSource>): Promise<string> {
  if (settings.amqpUrl) {
    if (!settings.amqpPassword) return settings.amqpUrl;
    const url = new URL(settings.amqpUrl);
    if (url.password) throw new errors.SY_ERR_SETTINGS('amqpUrl already carries a password; drop it from the URL or drop amqpPassword');
    url.password = encodeURIComponent((await resolveSecret(settings.amqpPassword)).reveal());
    return url.toString();
  }
  const endpoint = await (await config()).rabbitmq();
  const password = (await resolveEndpointSecret(endpoint.passwordRef, endpoint)).reveal();
  // slingshot does not encode user and password; encoding keeps ':' '@' '/' in them working.
  return `amqp://${encodeURIComponent(endpoint.username)}:${encodeURIComponent(password)}@${endpoint.host}:${endpoint.port}/%2f`;
}

/**
 * The process's transport in the registry's vocabulary: "memory", a broker URL as given, or
 * "amqp" (the broker named by amqpUrl, or by the configuration service, password resolved).
 */
export async function processTransportSpec(settings: ProcessSettings, config: () => Promise<ConfigSource>): Promise<string> {
  return settings.transport === 'amqp' ? amqpUrl(settings, config) : settings.transport;
}

/**
 * The process transport's queues for a one-shot command (send, tests): opened through a
 * registry of its own, not yet started; closing the transport is all the cleanup it needs.
 */
export async function createTransport(settings: ProcessSettings, config: () => Promise<ConfigSource>, logger: Logger): Promise<Transport> {
  const spec = await processTransportSpec(settings, config);
  const { queues } = await new TransportRegistry({ logger }).open(spec, 'worker', ['queue']);
  return queues!;
}

/**
 * The transport a model runs on: its own section's `transport` when it has one, else the
 * process's for the models that share it (queues and the bus), else the runner's default.
 */
export async function transportSpecOf(
  runner: ModelRunner,
  section: { transport?: unknown } | undefined,
  settings: ProcessSettings,
  config: () => Promise<ConfigSource>,
): Promise<string> {
  if (typeof section?.transport === 'string' && section.transport !== '') return section.transport;
  if (runner.sharesProcessTransport && runner.needs.every((need) => capabilitiesOf(settings.transport).includes(need))) {
    return processTransportSpec(settings, config);
  }
  return runner.defaultTransport;
}
