/**
 * Class identity that survives two copies of sqlspec in one process: the ES and the CommonJS build (an ESM app
 * whose CommonJS dependency also requires sqlspec), or two installed versions.
 *
 * `brand(Cls, "Name")` marks `Cls.prototype` with the registered symbol `sqlspec.Name`, and makes `instanceof Cls`
 * test for that mark instead of for this copy's prototype. Both copies register the same symbol, so an error thrown
 * by one copy is an instance of the other copy's class and of its parents (their marks sit on the prototype chain),
 * and never of a sibling. A subclass that is not branded itself (an application's own error class) keeps the
 * ordinary prototype test.
 */

type Constructor = abstract new (...args: never[]) => object;

const ordinaryHasInstance = Function.prototype[Symbol.hasInstance];

export function brand(cls: Constructor, name: string): void {
  const mark = Symbol.for(`sqlspec.${name}`);
  Object.defineProperty(cls.prototype, mark, { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: Constructor, value: unknown): boolean {
      if (this !== cls) return ordinaryHasInstance.call(this, value);
      return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[mark] === true;
    },
  });
}

/**
 * Brands an error class and gives it a fixed `name` on its prototype (as native errors have), so the name survives
 * minifiers that rename classes.
 */
export function brandError(cls: Constructor, name: string): void {
  brand(cls, name);
  Object.defineProperty(cls.prototype, "name", { value: name, writable: true, configurable: true });
}
