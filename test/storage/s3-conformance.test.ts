// The object store conformance suite on the S3 store, against s3rver on 127.0.0.1.

import { S3ObjectStore } from '../../src/storage/s3/mod.js';
import { objectStoreConformance } from '../conformance/object-store-conformance.js';
import { startS3Server } from '../support/s3-server.js';

objectStoreConformance('s3', {
  async create() {
    const bucket = 'conformance';
    const server = await startS3Server({ buckets: [bucket] });
    const store = new S3ObjectStore({
      endpoint: server.endpoint,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      requestTimeoutMs: 20_000,
      connectionTimeoutMs: 2_000,
    });
    return { store, bucket, cleanup: () => server.close() };
  },
});
