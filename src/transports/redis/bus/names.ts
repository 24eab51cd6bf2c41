// Lightbus's Redis key and stream names (SPECS.md §5.2–5.4), in one place.

export type StreamUse = 'per_api' | 'per_event';

export const rpcQueueKey = (api: string) => `${api}:rpc_queue`;
export const rpcExpiryKey = (id: string) => `rpc_expiry_key:${id}`;
/** Lightbus's own per-call result key; our callers use one reply key per process instead. */
export const resultKey = (api: string, procedure: string, id: string) => `${api}.${procedure}:result:${id}`;
export const RETURN_PATH_PREFIX = 'redis+key://';
/**
 * Our callers' reply lists start with this. Such a caller also subscribes to the channel of
 * the same name, so our servers PUBLISH results there (falling back to the list when no
 * one listens); Lightbus servers push to the list as always.
 */
export const REPLY_KEY_PREFIX = 'switchyard:reply:';
/** Switchyard's own RPC queue of an API (native-wire.ts), and the set of its servers of ours. */
export const nativeRpcQueueKey = (api: string) => `switchyard:rpc_queue:${api}`;
export const nativeServersKey = (api: string) => `switchyard:rpc_servers:${api}`;
export const streamOf = (api: string, event: string, use: StreamUse) => (use === 'per_api' ? `${api}.*:stream` : `${api}.${event}:stream`);
/** Where entries a listener cannot use are set aside (Lightbus has no such place; ours). */
export const deadLetterStreamOf = (stream: string) => `${stream}:dead_letter`;
export const schemaKey = (api: string) => `schema:${api}`;
export const SCHEMAS_SET = 'schemas';
