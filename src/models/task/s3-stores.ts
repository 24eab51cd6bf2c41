// The object stores of a task service: each task brings its own S3 settings (s3_host with
// its scheme, as boto's endpoint_url; region; keys), so the store is made per distinct
// settings (store-pool.ts) rather than taken from the process's settings. The S3 store
// (and the AWS SDK under it) is loaded only when a task service is built.

import type { OpenStore } from './store-pool.js';

/** An OpenStore making S3 object stores, with the S3 store's module loaded. */
export async function s3StoreOpener(): Promise<OpenStore> {
  const { S3ObjectStore } = await import('../../storage/s3/mod.js');
  return (s3) => new S3ObjectStore({ endpoint: s3.host, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
}
