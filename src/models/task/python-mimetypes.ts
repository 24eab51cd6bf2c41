// Python's `mimetypes.guess_type(url)[0]` (3.11, strict, built-in table), step for step:
// a `scheme:` prefix is split off (a `data:` URL names its own type), suffixes such as
// .tgz stand for two (.tar.gz), a compression suffix (.gz, .Z, ...; case-sensitive) is
// stripped, then the last suffix is looked up, exactly and then in lower case. So
// "notes.txt.gz" is text/plain, ".png" (a dot file) has no type, "a.oga" has none.

import { PYTHON_ENCODINGS_MAP, PYTHON_SUFFIX_MAP, PYTHON_TYPES_MAP } from './python-mimetypes-table.js';

/** posixpath.splitext: the last ".suffix" of the last path segment, ignoring leading dots. */
export function splitext(p: string): [string, string] {
  const sepIndex = p.lastIndexOf('/');
  const dotIndex = p.lastIndexOf('.');
  if (dotIndex > sepIndex) {
    for (let i = sepIndex + 1; i < dotIndex; i++) {
      if (p[i] !== '.') return [p.slice(0, dotIndex), p.slice(dotIndex)];
    }
  }
  return [p, ''];
}

/** urllib.parse._splittype: `([^/:]+):(.*)` at the start, scheme lower-cased. */
function splittype(url: string): [string | undefined, string] {
  const m = /^([^/:]+):([\s\S]*)$/.exec(url);
  return m ? [m[1]!.toLowerCase(), m[2]!] : [undefined, url];
}

/** The media type Python's mimetypes guesses for `url` (a key or path), or undefined. */
export function guessType(input: string): string | undefined {
  const [scheme, url] = splittype(input);
  if (scheme === 'data') {
    const comma = url.indexOf(',');
    if (comma < 0) return undefined;
    const semi = url.slice(0, comma).indexOf(';');
    const type = semi >= 0 ? url.slice(0, semi) : url.slice(0, comma);
    return type.includes('=') || !type.includes('/') ? 'text/plain' : type;
  }
  let [base, ext] = splitext(url);
  for (let suffix = PYTHON_SUFFIX_MAP.get(ext.toLowerCase()); suffix !== undefined; suffix = PYTHON_SUFFIX_MAP.get(ext.toLowerCase())) {
    [base, ext] = splitext(base + suffix);
  }
  if (PYTHON_ENCODINGS_MAP.has(ext)) [base, ext] = splitext(base);
  return PYTHON_TYPES_MAP.get(ext.toLowerCase());
}
