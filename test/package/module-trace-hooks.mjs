// The loader-thread half of module-trace.mjs: every resolved URL is appended to the trace file.
import { appendFileSync } from 'node:fs';

let out;
export function initialize(data) {
  out = data.out;
}

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (out && resolved.url.startsWith('file:')) appendFileSync(out, `${resolved.url}\n`);
  return resolved;
}
