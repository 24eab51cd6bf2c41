// Adapters for real infrastructure load their client library when first used, not when
// their module is imported: a process that never talks to S3, RabbitMQ or Redis never loads
// (or needs installed) @aws-sdk, amqplib or ioredis. Those packages are optional peer
// dependencies of switchyardjs; when one is missing, the user gets SY_ERR_ADAPTER_MISSING
// with the `npm install` that fixes it instead of Node's ERR_MODULE_NOT_FOUND.

import { errors } from './errors.js';

/** True when `err` says that one of `packages` itself (not a file inside it) cannot be found. */
export function isPackageMissing(err: unknown, packages: readonly string[]): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  const message = String((err as { message?: unknown }).message ?? '');
  return packages.some((p) => message.includes(`'${p}'`) || message.includes(`"${p}"`));
}

/** Runs `load` (dynamic imports of `packages`); a missing package becomes SY_ERR_ADAPTER_MISSING naming the install. */
export async function importAdapter<T>(adapter: string, packages: readonly string[], load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (isPackageMissing(err, packages)) throw new errors.SY_ERR_ADAPTER_MISSING(adapter, packages);
    throw err;
  }
}
