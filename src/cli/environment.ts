// Builds what services run on — transport, object store, configuration — from settings.
// This is the one place that maps a setting to an adapter; models never choose. Broker and
// storage endpoints come from settings or from the configuration service (slingshot's
// /rabbitmq and /object-storage), passwords and keys from secret references.

import { errors } from '../errors.js';
import { HttpConfigSource } from '../config/config-client.js';
import { SLINGSHOT_QUEUE_FLAGS, type ConfigSource } from '../config/config-source.js';
import { resolveEndpointSecret, resolveSecret } from '../config/secrets.js';
import { loadSysMap, MapConfigSource } from '../config/sysmap.js';
import type { Logger } from '../observability/logger.js';
import { FsObjectStore } from '../storage/fs/mod.js';
import type { ObjectStore } from '../storage/object-store.js';
import { S3ObjectStore, s3StoreOptionsFromEndpoint } from '../storage/s3/mod.js';
import { AmqpTransport } from '../transports/amqp/mod.js';
import { MemoryTransport } from '../transports/memory/mod.js';
import type { Transport } from '../transports/transport.js';
import { memoryTransportOptionsOf, queueDefaultsOf, storageDirOf, type Settings } from './settings.js';

export async function createTransport(settings: Settings, config: () => Promise<ConfigSource>, logger: Logger): Promise<Transport> {
  switch (settings.transport) {
    case 'memory':
      return new MemoryTransport(memoryTransportOptionsOf(settings));
    case 'amqp':
      // A queue first met by a send (`switchyard send` before any worker ran) is declared as
      // the settings say, else as slingshot declares its queues, so slingshot services
      // declaring it later find no conflict.
      return new AmqpTransport({ url: await amqpUrl(settings, config), logger, queueDefaults: queueDefaultsOf(settings) ?? SLINGSHOT_QUEUE_FLAGS });
  }
}

/** The broker URL with its password: from settings, or from GET /rabbitmq (SPECS.md §1.3). */
export async function amqpUrl(settings: Settings, config: () => Promise<ConfigSource>): Promise<string> {
  if (settings.amqpUrl) {
    if (!settings.amqpPassword) return settings.amqpUrl;
    const url = new URL(settings.amqpUrl);
    if (url.password) throw new errors.SY_ERR_SETTINGS('amqpUrl already carries a password; drop it from the URL or drop amqpPassword');
    url.password = encodeURIComponent((await resolveSecret(settings.amqpPassword)).reveal());
    return url.toString();
  }
  const endpoint = await (await config()).rabbitmq();
  // Only pass entries when the endpoint came from a remote configuration service.
  const password = (await resolveEndpointSecret(endpoint.passwordRef, endpoint)).reveal();
  // slingshot does not encode user and password; encoding keeps ':' '@' '/' in them working.
  return `amqp://${encodeURIComponent(endpoint.username)}:${encodeURIComponent(password)}@${endpoint.host}:${endpoint.port}/%2f`;
}

export async function createStore(settings: Settings, config: () => Promise<ConfigSource>): Promise<ObjectStore> {
  switch (settings.storage) {
    case 'fs':
      return new FsObjectStore({ root: storageDirOf(settings) });
    case 's3': {
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
      const [accessKey, secretKey] = await Promise.all([resolveEndpointSecret(endpoint.accessKeyRef, endpoint), resolveEndpointSecret(endpoint.secretKeyRef, endpoint)]);
      return new S3ObjectStore(s3StoreOptionsFromEndpoint(endpoint.host, accessKey.reveal(), secretKey.reveal(), { region: settings.s3Region }));
    }
  }
}

/** The configuration a service reads: a system-map file in-process, or a configuration service. */
export async function createConfigSource(settings: Settings): Promise<ConfigSource> {
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
export function lazyConfigSource(settings: Settings): () => Promise<ConfigSource> {
  let source: Promise<ConfigSource> | undefined;
  return () => (source ??= createConfigSource(settings));
}
