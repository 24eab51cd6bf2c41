export {
  S3ObjectStore,
  s3StoreOptionsFromEndpoint,
  checkBucket as checkS3Bucket,
  checkKey as checkS3Key,
  DEFAULT_S3_REGION,
  DEFAULT_MULTIPART_THRESHOLD_BYTES,
  DEFAULT_PART_SIZE_BYTES,
  DEFAULT_QUEUE_SIZE,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MIN_PART_SIZE_BYTES,
} from './s3-store.js';
export type { S3ObjectStoreOptions } from './s3-store.js';
