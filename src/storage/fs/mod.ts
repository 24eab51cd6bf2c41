export { FsObjectStore, STAGING_DIR } from './fs-store.js';
export type { FsObjectStoreOptions } from './fs-store.js';
