// Runs a Python 3 snippet for the parity tests (Python's json and mimetypes are the reference
// service's). A missing python3 fails the test with the install command, never skips it.

import { spawnSync } from 'node:child_process';

/** Runs `script` with python3, `input` on stdin; returns stdout. Bounded to 30 s. */
export function python(script: string, input = ''): string {
  const run = spawnSync('python3', ['-c', script], { input, encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('python3 is not installed; the parity tests compare with Python\'s own json and mimetypes modules: apt-get install -y python3');
  }
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`python3 failed (${run.status}): ${run.stderr}`);
  return run.stdout;
}

/** Python's json.loads(bytes) outcome for each body: "OK", "<msg>|<pos>", or the exception's name. */
export function pythonJsonOutcomes(bodies: readonly string[]): string[] {
  const script = `
import json, sys
out = []
for text in sys.stdin.read().split('\\x00'):
    try:
        json.loads(text.encode('utf-8', 'surrogatepass'))
        out.append('OK')
    except json.JSONDecodeError as e:
        out.append(f'{e.msg}|{e.pos}')
    except Exception as e:
        out.append(type(e).__name__)
print('\\x00'.join(out), end='')
`;
  return python(script, bodies.join('\x00')).split('\x00');
}

/** mimetypes.MimeTypes(filenames=()).guess_type(key)[0] for each key ('' for None). */
export function pythonGuessTypes(keys: readonly string[]): string[] {
  const script = `
import mimetypes, sys
m = mimetypes.MimeTypes(filenames=())
print('\\x00'.join((m.guess_type(k)[0] or '') for k in sys.stdin.read().split('\\x00')), end='')
`;
  return python(script, keys.join('\x00')).split('\x00');
}

/** The built-in strict table, extension → type. */
export function pythonTypesMap(): Record<string, string> {
  return JSON.parse(python('import json, mimetypes; print(json.dumps(mimetypes.MimeTypes(filenames=()).types_map[True]))')) as Record<string, string>;
}
