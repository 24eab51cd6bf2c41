// Errors on the wire in Python's repr form, as Lightbus sends them in RPC results
// (`repr(exception)`: `ValueError('bad')`): made for errors of ours, read back into a type
// and a message for RemoteError.

/** `Name('message')` in Python's quoting, as Lightbus's `repr(exception)`. */
export function reprOf(error: unknown): string {
  if (error instanceof Error) return `${error.name || 'Error'}(${pyQuote(error.message)})`;
  return `Error(${pyQuote(String(error))})`;
}

function pyQuote(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const escaped = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return quote + (quote === "'" ? escaped.replace(/'/g, "\\'") : escaped) + quote;
}

function pyUnquote(s: string): string {
  const body = s.slice(1, -1);
  return body.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c));
}

export function parseRepr(description: string): { type: string; message: string } {
  const m = /^([A-Za-z_][\w.]*)\(([\s\S]*)\)$/.exec(description);
  if (!m) return { type: 'Error', message: description };
  const inner = m[2]!;
  if (/^'[\s\S]*'$|^"[\s\S]*"$/.test(inner)) return { type: m[1]!, message: pyUnquote(inner) };
  return { type: m[1]!, message: inner };
}
