// Preloaded with `node --import <this file>`: at exit, appends to the file named by
// SWITCHYARD_MODULE_TRACE every module the process loaded — ES modules (seen by a resolve
// hook, which runs on the loader's own thread in Node 20, so it writes the file itself) and
// CommonJS modules (require's cache). A test reads it to assert which packages a command
// loads, so a regression in lazy loading fails without any timing.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const out = process.env.SWITCHYARD_MODULE_TRACE;
if (out) {
  register('./module-trace-hooks.mjs', import.meta.url, { data: { out } });
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    appendFileSync(out, `${Object.keys(require.cache).join('\n')}\n`);
  });
}
