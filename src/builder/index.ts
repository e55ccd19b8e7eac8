// STUB written by the lead so src/index.ts typechecks before the builder lands. The builder engineer owns this
// file and replaces it whole.
const notYet = (): never => {
  throw new Error("builder not implemented yet");
};
export const select = notYet as (...a: unknown[]) => never;
export const insertInto = notYet as (...a: unknown[]) => never;
export const update = notYet as (...a: unknown[]) => never;
export const deleteFrom = notYet as (...a: unknown[]) => never;
export const merge = notYet as (...a: unknown[]) => never;
export const upsert = notYet as (...a: unknown[]) => never;
