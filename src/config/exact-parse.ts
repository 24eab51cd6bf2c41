// Parsing configuration text so that numbers mean what was written, and wording problems
// so they point at the place they were found. Both the system-map file (YAML or JSON) and
// the configuration service's answers (JSON) go through here.
//
// Why not JSON.parse: it rounds integers above 2^53 (a u64 case such as
// 18446744073709551615 would change value) and it turns `2.0` into 2, which hides a float
// case that slingshot rejects. The `yaml` package with `intAsBigInt` returns every integer
// as a bigint and every float as a number, and keeps each scalar's source text.

import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';

export type PathKey = string | number;

export interface ParsedText {
  /** Plain JS data: integers are bigint, floats are number. */
  readonly data: unknown;
  /** Syntax problems, already worded; empty when the text parsed. */
  readonly syntaxProblems: string[];
  /** The source text of the scalar at `path`, e.g. "2.0", when there is one. */
  sourceAt(path: readonly PathKey[]): string | undefined;
  /** The line of the nearest node on `path`, or undefined when it cannot be placed. */
  lineOf(path: readonly PathKey[]): number | undefined;
}

/**
 * Parses YAML (a superset of JSON) keeping integers exact. `json: true` uses yaml's JSON
 * schema, so unquoted words and other YAML-only scalars are reported instead of accepted.
 */
export function parseExact(text: string, opts: { json?: boolean } = {}): ParsedText {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    intAsBigInt: true,
    lineCounter,
    prettyErrors: true,
    ...(opts.json ? { schema: 'json' as const } : {}),
  });
  // yaml's messages carry a code frame after the first line; the first line already says
  // what and where ("... at line 3, column 5"), which is what a problem list wants.
  const syntaxProblems = doc.errors.map((e) => e.message.split('\n')[0]!.trim().replace(/:$/, ''));
  const data = syntaxProblems.length === 0 ? doc.toJS({ maxAliasCount: 100 }) : undefined;
  return {
    data,
    syntaxProblems,
    sourceAt: (path) => {
      const node = nodeAt(doc, path);
      return node && typeof node === 'object' && 'source' in node && typeof node.source === 'string' ? node.source : undefined;
    },
    lineOf: (path) => {
      // A missing key has no node of its own; its parent's line is the useful pointer.
      for (let n = path.length; n >= 0; n--) {
        const node = nodeAt(doc, path.slice(0, n));
        const range = node && typeof node === 'object' && 'range' in node ? (node.range as [number, number, number] | undefined) : undefined;
        if (range) return lineCounter.linePos(range[0]).line;
      }
      return undefined;
    },
  };
}

function nodeAt(doc: Document, path: readonly PathKey[]): unknown {
  try {
    return path.length === 0 ? doc.contents : doc.getIn(path as PathKey[], true);
  } catch {
    // getIn throws when a path step meets a scalar; the caller falls back to a parent.
    return undefined;
  }
}

/** One problem found in a text, placed so a list of them can be sorted into reading order. */
export interface Problem {
  readonly text: string;
  readonly line: number | undefined;
}

export function problem(path: readonly PathKey[], what: string, lineOf: (path: readonly PathKey[]) => number | undefined): Problem {
  const line = lineOf(path);
  return { text: `${formatPath(path)}: ${what}${line === undefined ? '' : ` (line ${line})`}`, line };
}

/** Texts in line order; problems that cannot be placed keep their order, after the rest. */
export function sortedTexts(problems: readonly Problem[]): string[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || a.i - b.i)
    .map(({ p }) => p.text);
}

/** `services.classify.out[1].case`; keys that are not plain words are quoted. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_][\w-]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || '(top level)';
}

/** A short description of a value for "expected X, got Y" messages. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return v.length > 60 ? `the string ${JSON.stringify(v.slice(0, 60))}…` : `the string ${JSON.stringify(v)}`;
  if (typeof v === 'bigint') return `the integer ${v}`;
  if (typeof v === 'number') return `the number ${v}`;
  return String(v);
}

const EXPECTED: Record<string, string> = {
  string: 'a string', boolean: 'true or false', object: 'a mapping', array: 'a list',
  record: 'a mapping', bigint: 'an integer', number: 'a number',
};

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = data;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Object.prototype.hasOwnProperty.call(cur, key) ? (cur as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return cur;
}

/**
 * Lines for one zod issue: "path: what is wrong". Messages set on the schema (custom
 * issues, unknown keys) are used as they are; zod's generic ones are reworded here
 * because they do not say what value was found.
 */
export function issueToProblems(issue: z.core.$ZodIssue, data: unknown, lineOf: (path: readonly PathKey[]) => number | undefined = () => undefined): Problem[] {
  const path = issue.path as PathKey[];
  const found = valueAt(data, path);
  let what: string;
  switch (issue.code) {
    case 'invalid_type':
      what = found === undefined
        ? `is missing; expected ${EXPECTED[issue.expected] ?? issue.expected}`
        : `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(found)}`;
      break;
    case 'too_small':
      what = issue.origin === 'array' ? 'is an empty list; give at least one' : issue.origin === 'string' ? 'is empty; give a name' : issue.message;
      break;
    case 'unrecognized_keys':
      // Reported per key so each line names a path the reader can find.
      return issue.keys
        .map((k) => problem([...path, k], issue.message, lineOf));
    default:
      what = issue.message;
  }
  return [problem(path, what, lineOf)];
}
