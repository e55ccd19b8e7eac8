/** Paths and options shared by the typegen tests. */
import { fileURLToPath } from "node:url";

export const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
export const SQL_DIR = `${FIXTURES}sql`;
export const SCHEMA = `${FIXTURES}schema.sql`;
export const GOLDEN = fileURLToPath(new URL("./golden/queries.gen.ts", import.meta.url));
export const OPTIONS = {
  sources: [SQL_DIR],
  out: GOLDEN,
  importFrom: "../../../src/index.js",
  typesFrom: "../types.js",
} as const;
