// UUIDs as pydantic reads them (the Rust uuid crate): hyphenated, simple (32 hex digits),
// braced or urn:uuid: prefixed, any case, any version. Compared and printed in the
// canonical lower-case hyphenated form, as FastAPI prints a UUID.

export type UuidResult = { ok: true; uuid: string } | { ok: false; error: string };

const HEX = /^[0-9a-fA-F]$/;
const GROUPS = [8, 4, 4, 4, 12];

export function parseUuid(input: string): UuidResult {
  let s = input;
  let offset = 0;
  if (s.toLowerCase().startsWith('urn:uuid:')) {
    s = s.slice(9);
    offset = 9;
  } else if (s.startsWith('{') && s.endsWith('}')) {
    s = s.slice(1, -1);
    offset = 1;
  }
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (!HEX.test(c) && c !== '-') {
      return { ok: false, error: `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${c}\` at ${i + offset + 1}` };
    }
  }
  if (!s.includes('-')) {
    if (s.length !== 32) return { ok: false, error: `invalid length: expected length 32 for simple format, found ${s.length}` };
    const h = s.toLowerCase();
    return { ok: true, uuid: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` };
  }
  const groups = s.split('-');
  if (groups.length !== 5) return { ok: false, error: `invalid group count: expected 5, found ${groups.length}` };
  for (let g = 0; g < 5; g++) {
    if (groups[g]!.length !== GROUPS[g]) {
      return { ok: false, error: `invalid group length in group ${g}: expected ${GROUPS[g]}, found ${groups[g]!.length}` };
    }
  }
  return { ok: true, uuid: s.toLowerCase() };
}
