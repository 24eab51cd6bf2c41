// A wrapper that replaces some methods of an object and leaves the rest its own: what a
// particular transport offers beyond its interface (dead letters, inspection) stays
// reachable through the wrapper, and `instanceof` still sees the transport's class.

export function overlay<T extends object>(inner: T, wrapper: object, keys: ReadonlySet<PropertyKey>): T {
  const bound = new Map<PropertyKey, { of: unknown; fn: unknown }>();
  return new Proxy(inner, {
    get(target, key) {
      const owner = keys.has(key) ? wrapper : target;
      const value = Reflect.get(owner, key, owner) as unknown;
      if (typeof value !== 'function') return value;
      const known = bound.get(key);
      if (known && known.of === value) return known.fn;
      const fn = (value as (...args: unknown[]) => unknown).bind(owner);
      bound.set(key, { of: value, fn });
      return fn;
    },
  });
}
