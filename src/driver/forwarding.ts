/**
 * The forwarding object both adapter wrappers (statement tracking, observability) build on.
 */

/**
 * An object that forwards every property of `target` (own and inherited, methods bound to it) so selected methods
 * can be replaced. Built once per pool; property reads go through getters, so state the adapter changes shows.
 */
export function forwarding<T extends object>(target: T): T {
  const out = Object.create(Object.getPrototypeOf(target)) as Record<PropertyKey, unknown>;
  const seen = new Set<PropertyKey>();
  for (let o: object | null = target; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Reflect.ownKeys(o)) {
      if (key === "constructor" || seen.has(key)) continue;
      seen.add(key);
      const desc = Object.getOwnPropertyDescriptor(o, key) as PropertyDescriptor;
      if (typeof desc.value === "function") {
        out[key] = (desc.value as (...a: unknown[]) => unknown).bind(target);
      } else {
        Object.defineProperty(out, key, {
          get: () => (target as Record<PropertyKey, unknown>)[key],
          set: (v: unknown) => {
            (target as Record<PropertyKey, unknown>)[key] = v;
          },
          enumerable: desc.enumerable ?? true,
          configurable: true,
        });
      }
    }
  }
  return out as T;
}
