// The Python values service_framework puts on the wire that JavaScript has no type for.
// Decimal and UUID travel as strings inside marker maps (see codec.ts); these classes keep
// them distinct from plain strings so a value sent back out is encoded the same way.

import { errors } from '../../../errors.js';

/** An exact decimal number, kept as its text (Python's decimal.Decimal). No arithmetic. */
export class Decimal {
  readonly asStr: string;
  constructor(value: string | number | bigint) {
    const text = typeof value === 'string' ? value.trim() : String(value);
    // Python's Decimal also accepts NaN, Infinity and exponents; so do we.
    if (!/^[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|NaN|sNaN|Infinity|Inf)$/i.test(text)) {
      throw new errors.SY_ERR_SERVICE_VALUE(`not a decimal number: ${JSON.stringify(text)}`, 'give digits with an optional sign, point and exponent (or NaN, Infinity), as Python\'s Decimal takes');
    }
    this.asStr = text;
  }
  toString(): string {
    return this.asStr;
  }
  toNumber(): number {
    return Number(this.asStr);
  }
  toJSON(): string {
    return this.asStr;
  }
  equals(other: unknown): boolean {
    return other instanceof Decimal && other.asStr === this.asStr;
  }
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A UUID (Python's uuid.UUID), in its canonical lower-case text form. */
export class Uuid {
  readonly asStr: string;
  constructor(text: string, trusted = false) {
    if (trusted || UUID_TEXT.test(text)) {
      this.asStr = text; // already canonical (what every peer sends)
      return;
    }
    // Python's UUID() accepts braces, "urn:uuid:" and missing dashes; str() gives the canonical form.
    const hex = text.trim().toLowerCase().replace(/^urn:uuid:/, '').replace(/[{}-]/g, '');
    if (!/^[0-9a-f]{32}$/.test(hex)) throw new errors.SY_ERR_SERVICE_VALUE(`not a UUID: ${JSON.stringify(text)}`, 'give 32 hex digits, with or without dashes, braces or urn:uuid:');
    this.asStr = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  static random(): Uuid {
    // randomUUID gives the canonical lower-case form already: no need to parse it.
    return new Uuid(crypto.randomUUID(), true);
  }
  static isText(text: string): boolean {
    return UUID_TEXT.test(text);
  }
  toString(): string {
    return this.asStr;
  }
  toJSON(): string {
    return this.asStr;
  }
  equals(other: unknown): boolean {
    return other instanceof Uuid && other.asStr === this.asStr;
  }
}

/**
 * A number that travels as a msgpack float64 even when whole, as a Python float does.
 * JavaScript has one number type, so 2.0 would otherwise go out as the int 2, which a Python
 * model declaring `float` refuses. The service model wraps the values of fields declared
 * `t.float` in it on their way out; a handler never sees one (they decode as numbers).
 */
export class Float64 {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toJSON(): number {
    return this.value;
  }
}
