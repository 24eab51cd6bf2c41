// The object store conformance suite on the embedded fs store.

import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { FsObjectStore } from '../../src/storage/fs/mod.js';
import { objectStoreConformance } from '../conformance/object-store-conformance.js';

objectStoreConformance('fs', {
  async create() {
    const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'switchyard-fs-conf-'));
    return {
      store: new FsObjectStore({ root }),
      bucket: 'conformance',
      cleanup: () => fsp.rm(root, { recursive: true, force: true }),
    };
  },
});
