// Builds what services run on — transport, object store, configuration — from settings.
// This is the one place that maps a setting to an adapter; models never choose.

import { errors } from '../errors.js';
import { HttpConfigSource } from '../config/config-client.js';
import type { ConfigSource } from '../config/config-source.js';
import { loadSysMap, MapConfigSource } from '../config/sysmap.js';
import { FsObjectStore } from '../storage/fs/mod.js';
import type { ObjectStore } from '../storage/object-store.js';
import { MemoryTransport } from '../transports/memory/mod.js';
import type { Transport } from '../transports/transport.js';
import { storageDirOf, type Settings } from './settings.js';

export function createTransport(settings: Settings): Transport {
  switch (settings.transport) {
    case 'memory':
      return new MemoryTransport();
  }
}

export function createStore(settings: Settings): ObjectStore {
  switch (settings.storage) {
    case 'fs':
      return new FsObjectStore({ root: storageDirOf(settings) });
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
    });
  }
  throw new errors.SY_ERR_SETTINGS('no configuration: give --map sysmap.yaml (or SWITCHYARD_MAP), or --config-host URL (or SWITCHYARD_CONFIG_HOST)');
}
