// service_framework's required/optional type grammar (SPECS.md §2.4), in TypeScript.
// Python writes types (`str`, `{Decimal: Decimal}`, `(int, str)`, `{str}`); JavaScript has no
// runtime types of its own for most of them, so the grammar is spelled with tokens from `t`:
//
//   Python                      Switchyard
//   str, int, float, bool       t.str, t.int, t.float, t.bool     (also String, Number, Boolean)
//   dict, list, set, bytes      t.dict, t.list, t.set, t.bytes    (also Object, Array, Set, Uint8Array)
//   Decimal, UUID, datetime     t.Decimal, t.UUID, t.datetime     (also Decimal, Uuid, Date)
//   {KeyType: ValType}          t.mapOf(K, V)
//   {"a": T, ...}               { a: T, ... }                     (a nested object spec)
//   [T]                         [T]
//   (T1, T2)                    t.tuple(T1, T2)
//   {T}                         t.setOf(T)  or  new Set([T])
//   {"x", "y"} (literals)       t.literals('x', 'y')  or  new Set(['x', 'y'])
//   a function                  t.func(arity)                     (JS compares arity, not names)
//   —                           t.nullable(T): T or None          (e.g. delta values, where None deletes)
//   —                           any zod schema, anywhere in a spec
//
// The checks are Python's: `int` accepts booleans (bool is an int there); a nested object
// spec in required position needs every key it names and lets others through, in optional
// position it lets through only the keys it names; a literal set in required position needs
// every literal present, in optional position each provided item must be one of them.
// Deliberate difference: JavaScript cannot tell 1.0 from 1, so `float` accepts any number;
// on the way out, a value declared `float` is sent as a float64 even when whole
// (compileFloatMarker), so a Python model declaring float accepts it.

import type { z } from '../../schema/mod.js';
import { formatPath, kindOf, problemsOf, type ValidationProblem } from '../../schema/validate.js';
import { Decimal, Float64, Uuid } from './wire/values.js';

export type TokenKind =
  | 'str' | 'int' | 'float' | 'bool' | 'dict' | 'list' | 'tuple' | 'set' | 'bytes'
  | 'Decimal' | 'UUID' | 'datetime' | 'none' | 'any';

/** A Python type in the grammar. T is the TypeScript type of the values it accepts. */
export class TypeToken<T = unknown> {
  declare readonly __type?: T;
  constructor(readonly kind: TokenKind) {}
}
export class MapOfSpec<K = unknown, V = unknown> {
  declare readonly __key?: K;
  constructor(readonly key: TypeSpec, readonly value: V) {}
}
export class TupleSpec<Items extends readonly unknown[] = readonly unknown[]> {
  constructor(readonly items: Items) {}
}
export class SetOfSpec<I = unknown> {
  /** Types only: tells a set spec from a nullable one, which has the same fields (InferSpec). */
  declare readonly __spec: 'setOf';
  constructor(readonly item: I) {}
}
export class LiteralsSpec<L extends string | number | boolean = string | number | boolean> {
  readonly values: ReadonlySet<L>;
  constructor(values: readonly L[]) {
    this.values = new Set(values);
  }
}
/** Switchyard's addition: T or null (a delta's deletion, Python's None). */
export class NullableSpec<I = unknown> {
  declare readonly __spec: 'nullable';
  constructor(readonly item: I) {}
}
export class FuncSpec {
  constructor(readonly arity: number | undefined) {}
}

/** One spec of the grammar (loosely typed at this level; `InferSpec` reads it precisely). */
export type TypeSpec = unknown;

export const t = {
  str: new TypeToken<string>('str'),
  int: new TypeToken<number | bigint>('int'),
  float: new TypeToken<number>('float'),
  bool: new TypeToken<boolean>('bool'),
  dict: new TypeToken<Record<string, unknown>>('dict'),
  list: new TypeToken<unknown[]>('list'),
  tuple_: new TypeToken<unknown[]>('tuple'),
  set: new TypeToken<Set<unknown>>('set'),
  bytes: new TypeToken<Uint8Array>('bytes'),
  Decimal: new TypeToken<Decimal>('Decimal'),
  UUID: new TypeToken<Uuid>('UUID'),
  datetime: new TypeToken<Date>('datetime'),
  none: new TypeToken<null>('none'),
  any: new TypeToken<unknown>('any'),
  mapOf: <K extends TypeSpec, V extends TypeSpec>(key: K, value: V) => new MapOfSpec<K, V>(key, value),
  tuple: <const Items extends readonly TypeSpec[]>(...items: Items) => new TupleSpec<Items>(items),
  setOf: <I extends TypeSpec>(item: I) => new SetOfSpec<I>(item),
  literals: <const L extends string | number | boolean>(...values: L[]) => new LiteralsSpec<L>(values),
  func: (arity?: number) => new FuncSpec(arity),
  nullable: <I extends TypeSpec>(item: I) => new NullableSpec<I>(item),
} as const;

/** The TypeScript type of values a spec accepts. */
export type InferSpec<S> =
  S extends TypeToken<infer T> ? T
  : S extends z.ZodType ? z.output<S>
  : S extends MapOfSpec<unknown, infer V> ? Record<string, InferSpec<V>>
  : S extends TupleSpec<infer Items> ? { -readonly [K in keyof Items]: InferSpec<Items[K]> }
  : S extends SetOfSpec<infer I> ? Set<InferSpec<I>>
  : S extends LiteralsSpec<infer L> ? Set<L> | L[]
  : S extends NullableSpec<infer I> ? InferSpec<I> | null
  : S extends FuncSpec ? (...args: never[]) => unknown
  : S extends StringConstructor ? string
  : S extends NumberConstructor ? number
  : S extends BooleanConstructor ? boolean
  : S extends DateConstructor ? Date
  : S extends readonly [infer I] ? InferSpec<I>[]
  : S extends Set<unknown> ? Set<unknown>
  : S extends Record<string, unknown> ? { -readonly [K in keyof S]: InferSpec<S[K]> }
  : unknown;

/** The args type of a required/optional pair of specs. */
export type InferArgs<Req, Opt> =
  (unknown extends Req ? Record<string, unknown> : { -readonly [K in keyof Req]: InferSpec<Req[K]> })
  & (unknown extends Opt ? unknown : { -readonly [K in keyof Opt]?: InferSpec<Opt[K]> });

// ---- checking

function isZod(spec: unknown): spec is z.ZodType {
  return typeof spec === 'object' && spec !== null && '_zod' in spec && typeof (spec as { safeParse?: unknown }).safeParse === 'function';
}

/**
 * Whether a spec declares a key, or args carry one: own keys only. `key in obj` would find
 * "constructor", "toString", "valueOf", … on Object.prototype and let args of those names
 * through as declared (or count a required one as present).
 */
const hasOwn = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Constructors accepted in place of tokens. */
function tokenOfConstructor(spec: unknown): TypeToken | undefined {
  switch (spec) {
    case String: return t.str;
    case Number: return t.float;
    case Boolean: return t.bool;
    case Object: return t.dict;
    case Array: return t.list;
    case Set: return t.set;
    case Map: return t.dict;
    case Uint8Array: return t.bytes;
    case Date: return t.datetime;
    case Decimal: return t.Decimal;
    case Uuid: return t.UUID;
    default: return undefined;
  }
}

function isInstance(value: unknown, kind: TokenKind): boolean {
  switch (kind) {
    case 'str': return typeof value === 'string';
    case 'int': return (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint' || typeof value === 'boolean';
    case 'float': return typeof value === 'number' || value instanceof Float64;
    case 'bool': return typeof value === 'boolean';
    case 'dict': return isPlainObject(value) || value instanceof Map;
    case 'list': case 'tuple': return Array.isArray(value);
    case 'set': return value instanceof Set;
    case 'bytes': return value instanceof Uint8Array;
    case 'Decimal': return value instanceof Decimal;
    case 'UUID': return value instanceof Uuid;
    case 'datetime': return value instanceof Date && !Number.isNaN(value.getTime());
    case 'none': return value === null || value === undefined;
    case 'any': return true;
  }
}

/** How a spec reads in a message: "str", "list of int", "mapping str → Decimal", ... */
export function describeSpec(spec: unknown): string {
  const token = spec instanceof TypeToken ? spec : tokenOfConstructor(spec);
  if (token) return token.kind;
  if (isZod(spec)) return 'a value of the zod schema';
  if (spec instanceof MapOfSpec) return `mapping ${describeSpec(spec.key)} → ${describeSpec(spec.value)}`;
  if (spec instanceof TupleSpec) return `tuple (${spec.items.map(describeSpec).join(', ')})`;
  if (spec instanceof SetOfSpec) return `set of ${describeSpec(spec.item)}`;
  if (spec instanceof LiteralsSpec) return `items of {${[...spec.values].map((v) => JSON.stringify(v)).join(', ')}}`;
  if (spec instanceof FuncSpec) return spec.arity === undefined ? 'function' : `function of ${spec.arity} parameter(s)`;
  if (spec instanceof NullableSpec) return `${describeSpec(spec.item)} or None`;
  if (spec instanceof Set) return describeSpec(setSpec(spec));
  if (Array.isArray(spec)) return `list of ${describeSpec(spec[0])}`;
  if (isPlainObject(spec)) return 'dict';
  return String(spec);
}

/** A Set in a spec: one token inside means "set of T", otherwise a set of literals. */
function setSpec(spec: Set<unknown>): SetOfSpec | LiteralsSpec {
  if (spec.size === 1) {
    const only = [...spec][0];
    if (only instanceof TypeToken || tokenOfConstructor(only) || isZod(only)) return new SetOfSpec(only);
  }
  return new LiteralsSpec([...spec] as (string | number | boolean)[]);
}

type Mode = 'required' | 'optional';

function iterable(value: unknown): unknown[] | undefined {
  if (value instanceof Set || Array.isArray(value)) return [...value];
  return undefined;
}

function check(value: unknown, spec: unknown, mode: Mode, path: PropertyKey[], out: ValidationProblem[]): void {
  const problem = (expected: string, at: PropertyKey[] = path, received: unknown = value): void => {
    out.push({ field: formatPath(at), expected, received: kindOf(received) });
  };

  const token = spec instanceof TypeToken ? spec : tokenOfConstructor(spec);
  if (token) {
    if (!isInstance(value, token.kind)) problem(token.kind);
    return;
  }
  if (isZod(spec)) {
    const r = spec.safeParse(value);
    if (!r.success) for (const p of problemsOf(r.error, value)) out.push({ ...p, field: formatPath([...path, ...(p.field === '' ? [] : [p.field])]) });
    return;
  }
  if (spec instanceof MapOfSpec) {
    if (value instanceof Map) {
      for (const [k, v] of value) {
        check(k, spec.key, mode, [...path, `<key ${String(k)}>`], out);
        check(v, spec.value, mode, [...path, String(k)], out);
      }
      return;
    }
    if (!isPlainObject(value)) return problem(describeSpec(spec));
    const keyToken = spec.key instanceof TypeToken ? spec.key : tokenOfConstructor(spec.key);
    for (const [k, v] of Object.entries(value)) {
      // Object keys are strings in JavaScript (and on the wire, msgpack map keys of a
      // Python service are strings); a non-string key type is checked on the key's text.
      if (keyToken && keyToken.kind !== 'str' && keyToken.kind !== 'any') {
        const ok = keyToken.kind === 'int' ? /^-?\d+$/.test(k) : keyToken.kind === 'float' || keyToken.kind === 'Decimal' ? k.trim() !== '' && !Number.isNaN(Number(k)) : false;
        if (!ok) problem(`keys of type ${keyToken.kind}`, [...path, k], k);
      }
      check(v, spec.value, mode, [...path, k], out);
    }
    return;
  }
  if (spec instanceof TupleSpec) {
    if (!Array.isArray(value)) return problem(describeSpec(spec));
    if (value.length !== spec.items.length) return problem(`${describeSpec(spec)} of length ${spec.items.length} (got length ${value.length})`);
    (spec.items as readonly unknown[]).forEach((s: unknown, i: number) => check(value[i], s, mode, [...path, i], out));
    return;
  }
  if (spec instanceof Set) return check(value, setSpec(spec), mode, path, out);
  if (spec instanceof SetOfSpec) {
    const items = iterable(value);
    if (!items) return problem(describeSpec(spec));
    items.forEach((v, i) => check(v, spec.item, 'optional', [...path, i], out));
    return;
  }
  if (spec instanceof LiteralsSpec) {
    const items = iterable(value) ?? (isPlainObject(value) ? Object.keys(value) : undefined);
    if (!items) return problem(describeSpec(spec));
    if (mode === 'required') {
      for (const lit of spec.values) if (!items.includes(lit)) problem(`${describeSpec(spec)}, all of them (missing ${JSON.stringify(lit)})`);
    } else {
      items.forEach((v, i) => {
        if (!spec.values.has(v as string)) problem(`one of {${[...spec.values].map((x) => JSON.stringify(x)).join(', ')}}`, [...path, i], v);
      });
    }
    return;
  }
  if (spec instanceof NullableSpec) {
    if (value === null) return;
    const before = out.length;
    check(value, spec.item, mode, path, out);
    for (let i = before; i < out.length; i++) out[i] = { ...out[i]!, expected: `${out[i]!.expected} or None` };
    return;
  }
  if (spec instanceof FuncSpec) {
    if (typeof value !== 'function') return problem(describeSpec(spec));
    if (spec.arity !== undefined && value.length !== spec.arity) problem(`${describeSpec(spec)} (got ${value.length})`);
    return;
  }
  if (Array.isArray(spec)) {
    if (!Array.isArray(value)) return problem(describeSpec(spec));
    value.forEach((v, i) => check(v, spec[0], mode, [...path, i], out));
    return;
  }
  if (isPlainObject(spec)) {
    if (!isPlainObject(value)) return problem('dict');
    if (mode === 'required') {
      for (const [k, s] of Object.entries(spec)) {
        if (!hasOwn(value, k)) problem(describeSpec(s), [...path, k], undefined);
        else check(value[k], s, mode, [...path, k], out);
      }
    } else {
      for (const [k, v] of Object.entries(value)) {
        if (!hasOwn(spec, k)) problem('no such key (not in the optional spec)', [...path, k], v);
        else check(v, spec[k], mode, [...path, k], out);
      }
    }
    return;
  }
  out.push({ field: formatPath(path), expected: `a valid type spec (got ${kindOf(spec)} in the model)`, received: kindOf(value) });
}

/**
 * Python's validate_args(new, required, optional) on an args dict: every required key present
 * and valid, every other key declared optional and valid. Returns every problem found.
 */
/** argsProblems for one required/optional pair, with the key lists made once (hot path). */
export function compileArgsCheck(
  required: Readonly<Record<string, unknown>> | undefined,
  optional: Readonly<Record<string, unknown>> | undefined,
): (args: unknown) => ValidationProblem[] {
  const req = required ?? {};
  const opt = optional ?? {};
  const reqEntries = Object.entries(req);
  const none: ValidationProblem[] = [];
  return (args) => {
    if (!isPlainObject(args)) return argsProblems(args, req, opt);
    let out: ValidationProblem[] | undefined;
    for (const [key, spec] of reqEntries) {
      const value = hasOwn(args, key) ? args[key] : undefined;
      if (value === undefined) (out ??= []).push({ field: key, expected: `${describeSpec(spec)} (required)`, received: 'undefined' });
      else {
        const token = spec instanceof TypeToken ? spec : undefined;
        // The common case, a plain type, without building a path.
        if (token) {
          if (!isInstance(value, token.kind)) (out ??= []).push({ field: key, expected: token.kind, received: kindOf(value) });
        } else check(value, spec, 'required', [key], (out ??= []));
      }
    }
    for (const key in args) {
      if (hasOwn(req, key)) continue;
      const value = args[key];
      if (value === undefined) continue;
      if (!hasOwn(opt, key)) (out ??= []).push({ field: key, expected: 'no such key (declare it in requiredArguments or optionalArguments)', received: kindOf(value) });
      else check(value, opt[key], 'optional', [key], (out ??= []));
    }
    return out ?? none;
  };
}

export function argsProblems(
  args: unknown,
  required: Readonly<Record<string, unknown>> | undefined,
  optional: Readonly<Record<string, unknown>> | undefined,
  options: { allowUndeclared?: boolean } = {},
): ValidationProblem[] {
  const out: ValidationProblem[] = [];
  if (!isPlainObject(args)) return [{ field: '', expected: 'dict of arguments', received: kindOf(args) }];
  const req = required ?? {};
  const opt = optional ?? {};
  for (const [key, spec] of Object.entries(req)) {
    if (!hasOwn(args, key) || args[key] === undefined) out.push({ field: key, expected: `${describeSpec(spec)} (required)`, received: 'undefined' });
    else check(args[key], spec, 'required', [key], out);
  }
  for (const [key, value] of Object.entries(args)) {
    if (hasOwn(req, key) || value === undefined) continue;
    if (!hasOwn(opt, key)) {
      if (!options.allowUndeclared) out.push({ field: key, expected: 'no such key (declare it in requiredArguments or optionalArguments)', received: kindOf(value) });
    }
    else check(value, opt[key], 'optional', [key], out);
  }
  return out;
}

// ---- floats on the wire

type Marker = (value: unknown) => unknown;

const markNumber: Marker = (v) => (typeof v === 'number' && Number.isInteger(v) ? new Float64(v) : v);

/** A marker for the values of keys a spec names (copying the object only when one changes). */
function objectMarker(entries: ReadonlyArray<readonly [string, Marker]>): Marker {
  return (v) => {
    if (!isPlainObject(v)) return v;
    let out: Record<string, unknown> | undefined;
    for (const [key, mark] of entries) {
      if (!hasOwn(v, key)) continue;
      const before = v[key];
      const after = mark(before);
      if (after !== before) (out ??= { ...v })[key] = after;
    }
    return out ?? v;
  };
}

/** What wraps the float-declared values under one spec; undefined when it declares none. */
function markerOf(spec: unknown): Marker | undefined {
  const token = spec instanceof TypeToken ? spec : tokenOfConstructor(spec);
  if (token) return token.kind === 'float' ? markNumber : undefined;
  if (spec instanceof NullableSpec) return markerOf(spec.item);
  if (Array.isArray(spec)) {
    const item = markerOf(spec[0]);
    return item && ((v) => (Array.isArray(v) ? v.map(item) : v));
  }
  if (spec instanceof TupleSpec) {
    const items = (spec.items as readonly unknown[]).map(markerOf);
    if (!items.some(Boolean)) return undefined;
    return (v) => (Array.isArray(v) ? v.map((x, i) => items[i]?.(x) ?? x) : v);
  }
  if (spec instanceof MapOfSpec) {
    const value = markerOf(spec.value);
    if (!value) return undefined;
    return (v) => {
      if (!isPlainObject(v)) return v;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = value(x);
      return out;
    };
  }
  if (isPlainObject(spec) && !isZod(spec)) {
    const entries = Object.entries(spec).flatMap(([k, s]) => {
      const m = markerOf(s);
      return m ? [[k, m] as const] : [];
    });
    return entries.length > 0 ? objectMarker(entries) : undefined;
  }
  // Sets, literals, functions, zod schemas: left as they are.
  return undefined;
}

/**
 * For args going onto the wire: wraps every whole number a required/optional spec declares
 * `float` (t.float or Number, at any depth of nested specs, lists, tuples, mappings) in
 * Float64, so it is packed as a float64 as Python packs its floats. Returns the args
 * unchanged (and allocates nothing) when the specs declare no float.
 */
export function compileFloatMarker(
  required: Readonly<Record<string, unknown>> | undefined,
  optional: Readonly<Record<string, unknown>> | undefined,
): (args: Record<string, unknown>) => Record<string, unknown> {
  const marker = markerOf({ ...optional, ...required });
  return marker ? (args) => marker(args) as Record<string, unknown> : (args) => args;
}
