// The one validator (DESIGN.md: one place per concern). Every model checks values against
// zod schemas here, so every validation error in Switchyard reads the same way: what was
// being checked, the field, what was expected and what arrived. Values themselves never
// appear in messages: a field may hold a password.

import type { z } from 'zod';
import { errors } from '../errors.js';

/** A schema of values of type T, declared once; TypeScript types are inferred from it. */
export type Schema<T = unknown> = z.ZodType<T>;
/** The type of a valid value of schema S (after parsing, e.g. defaults applied). */
export type Infer<S extends z.ZodType> = z.output<S>;
/** The type a caller may pass for schema S (before parsing). */
export type InferInput<S extends z.ZodType> = z.input<S>;

/** One thing wrong with a value. */
export interface ValidationProblem {
  /** Dotted path to the field, "" for the value itself: `user.tags[2]`. */
  readonly field: string;
  /** What the schema wanted, e.g. "string", "one of \"a\"|\"b\"", "no such key". */
  readonly expected: string;
  /** The kind of value that arrived ("number", "undefined", ...), never the value. */
  readonly received: string;
}

/** Dotted path of a zod issue: a.b[3].c */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** The kind of a value, for messages: never the value itself. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return 'bytes';
  if (value instanceof Date) return 'date';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : Number.isNaN(value) ? 'NaN' : 'number';
  return typeof value;
}

/** The value at `path` inside `root`, to say what kind of value was received there. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

type Issue = z.core.$ZodIssue;

function expectedOf(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected;
    case 'invalid_value':
      return issue.values.length === 1 ? JSON.stringify(issue.values[0] ?? null) : `one of ${issue.values.map((v) => JSON.stringify(v ?? null)).join('|')}`;
    case 'too_small':
      return `${issue.origin} ${issue.inclusive === false ? '>' : '≥'} ${String(issue.minimum)}${issue.origin === 'string' || issue.origin === 'array' ? ' in length' : ''}`;
    case 'too_big':
      return `${issue.origin} ${issue.inclusive === false ? '<' : '≤'} ${String(issue.maximum)}${issue.origin === 'string' || issue.origin === 'array' ? ' in length' : ''}`;
    case 'invalid_format':
      return `a string of format ${issue.format}`;
    case 'not_multiple_of':
      return `a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      return 'a value matching one of the alternatives';
    default:
      return issue.message;
  }
}

/** Every problem zod found, one per field (unknown keys one each, nested unions flattened). */
export function problemsOf(error: z.ZodError, value: unknown): ValidationProblem[] {
  const out: ValidationProblem[] = [];
  const visit = (issue: Issue, base: readonly PropertyKey[]) => {
    const path = [...base, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ field: formatPath([...path, key]), expected: 'no such key (not declared)', received: kindOf(valueAt(value, [...path, key])) });
      return;
    }
    out.push({ field: formatPath(path), expected: expectedOf(issue), received: kindOf(valueAt(value, path)) });
  };
  for (const issue of error.issues) visit(issue, []);
  return out;
}

export type CheckResult<T> = { ok: true; value: T } | { ok: false; problems: ValidationProblem[] };

/** Checks without throwing. */
export function check<S extends z.ZodType>(schema: S, value: unknown): CheckResult<z.output<S>> {
  const result = schema.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, problems: problemsOf(result.error, value) };
}

/** One line per problem: `field "a.b": expected string, got number`. */
export function describeProblems(problems: readonly ValidationProblem[]): string[] {
  return problems.map((p) => `${p.field === '' ? 'the value' : `field "${p.field}"`}: expected ${p.expected}, got ${p.received}`);
}

/**
 * Returns the parsed value or throws SY_ERR_VALIDATION naming `subject` (what was being
 * checked, e.g. `RPC auth.login() parameters`) and every problem.
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, subject: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new errors.SY_ERR_VALIDATION(subject, describeProblems(problemsOf(result.error, value)));
}
