// `switchyard put <alias> <id> <file>`: stores an input object where a service's
// readFile(alias, id) will find it, resolving the alias the way the service does.

import { errors } from '../../errors.js';
import { parseId } from '../../models/worker/ids.js';
import { createStore, lazyConfigSource } from '../environment.js';
import type { Settings } from '../settings.js';

export interface PutRequest {
  readonly alias: string;
  readonly id: string;
  readonly file: string;
  readonly service: string | undefined;
  /** Treat alias as the bucket name itself. */
  readonly bucket: boolean;
}

export async function put(request: PutRequest, settings: Settings): Promise<string> {
  let key: string;
  try {
    key = parseId(Buffer.from(request.id, 'utf8')).toString();
  } catch (err) {
    throw new errors.SY_ERR_USAGE(`cannot put object ${JSON.stringify(request.id)}: ${(err as Error).message}`);
  }
  const config = lazyConfigSource(settings);
  let bucket = request.alias;
  if (!request.bucket) {
    if (!request.service) throw new errors.SY_ERR_USAGE('give --service NAME to resolve the alias (with --map or --config-host), or --bucket to name the bucket directly');
    bucket = await (await config()).bucket(request.service, request.alias);
  }
  const store = await createStore(settings, config);
  try {
    await store.putFile(bucket, key, request.file);
    return `stored ${request.file} as ${bucket}/${key} (${store.describe(bucket, key)})`;
  } finally {
    await store.close?.();
  }
}
