// Lightbus's Redis key and stream names (SPECS.md §5.2–5.4), and those of our native RPC
// format beside it (native-wire.ts), in one place. Pure naming: no I/O.

export type StreamUse = 'per_api' | 'per_event';

export const rpcQueueKey = (api: string) => `${api}:rpc_queue`;
export const rpcExpiryKey = (id: string) => `rpc_expiry_key:${id}`;
/** Lightbus's own per-call result key; our callers use one reply key per process instead. */
export const resultKey = (api: string, procedure: string, id: string) => `${api}.${procedure}:result:${id}`;
export const RETURN_PATH_PREFIX = 'redis+key://';
/** The return path naming a reply key ("redis+key://{key}"). */
export const returnPathOf = (key: string) => RETURN_PATH_PREFIX + key;
/** The reply key a return path names; undefined when it is not a Redis key return path. */
export const replyKeyOf = (returnPath: string): string | undefined =>
  returnPath.startsWith(RETURN_PATH_PREFIX) ? returnPath.slice(RETURN_PATH_PREFIX.length) : undefined;
/**
 * Our callers' reply lists start with this. Such a caller also subscribes to the channel of
 * the same name, so our servers PUBLISH results there (falling back to the list when no
 * one listens); Lightbus servers push to the list as always.
 */
export const REPLY_KEY_PREFIX = 'switchyard:reply:';
/** True for a reply key of a caller of ours (who listens on the channel of that name too). */
export const isOurReplyKey = (key: string) => key.startsWith(REPLY_KEY_PREFIX);
/** Switchyard's own RPC queue of an API (native-wire.ts), and the set of its servers of ours. */
export const nativeRpcQueueKey = (api: string) => `switchyard:rpc_queue:${api}`;
export const nativeServersKey = (api: string) => `switchyard:rpc_servers:${api}`;
export const streamOf = (api: string, event: string, use: StreamUse) => (use === 'per_api' ? `${api}.*:stream` : `${api}.${event}:stream`);
/** Where entries a listener cannot use are set aside (Lightbus has no such place; ours). */
export const deadLetterStreamOf = (stream: string) => `${stream}:dead_letter`;
export const schemaKey = (api: string) => `schema:${api}`;
export const SCHEMAS_SET = 'schemas';
