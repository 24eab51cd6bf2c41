// What flags and environment variables carry is text; settings schemas read it with these
// preprocessors (the same spelling rules for every section).

/** JSON text (a nested setting spelled in an environment variable) as its value; anything else as it is. */
export function jsonText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/**
 * A list spelled as JSON (`["a","b"]`) or as comma-separated entries (`a, b`; "" is an empty
 * list); anything else, and JSON that does not parse, as it is, for the schema to refuse.
 */
export function listText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text.startsWith('[')) return jsonText(text);
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}
