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
