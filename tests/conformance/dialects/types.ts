/**
 * What the conformance suite needs to know about a SQL dialect: its DDL and the few expressions that differ. One
 * file per dialect; an adapter joins the suite with a profile for its dialect (if none exists yet) and a test file
 * calling `runConformance`. Profiles describe the *dialect*; what an *adapter* can do (savepoints, cancel, …) comes
 * from the adapter's declared capabilities, never from its name.
 */

/** Table names of one suite run (prefixed per adapter, because server adapters share a database). */
export interface Tables {
  items: string;
  parent: string;
  child: string;
  types: string;
  products: string;
}

export interface DialectProfile {
  /** Creates every table: items(id, name NOT NULL, qty CHECK >= 0), parent/child (FK), types, products. */
  createTables(t: Tables): string[];
  dropTables(t: Tables): string[];
  /**
   * Column types of `types`: big (64-bit int), ts (instant), b (binary), u (uuid or text), j (JSON), flag (boolean),
   * num (exact decimal where the dialect has one).
   */
  readonly exactDecimal: boolean;
  /** A query yielding column `g` = 1..n, with one placeholder for n. */
  series(placeholder: string): string;
  /** A script with a routine/trigger body whose inner `;` must not split it, and a query checking that it ran. */
  routineScript(t: Tables, prefix: string): { script: string; check: string; expect: unknown; cleanup: string };
  /** Expected `dataDictionary.getColumns(products)` as [name, type]. */
  productColumns: [string, string][];
  /** A statement that keeps the engine busy for well over a second (for cancellation). */
  slowStatement: string;
  /** The engine reports SQLSTATE codes. */
  readonly sqlState: boolean;
  /** Native array types (`int[]`) bind from JS arrays. */
  readonly arrays: boolean;
  /** SQL that yields JSON text of a key from the j column, e.g. `j->>'k'`. */
  jsonField(column: string, key: string): string;
  /** The name of the unique-key constraint on items(id) as the engine reports it; undefined when it has none. */
  itemsPrimaryKey?(t: Tables): string;
  /** DML takes RETURNING (default true). MySQL has none. */
  readonly returning?: boolean;
  /** A text column type usable in ALTER TABLE … ADD COLUMN (default `varchar`). */
  readonly textType?: string;
  /** The engine's rowsAffected for an upsert that inserted and updated this many rows (default their sum). */
  upsertCount?(inserted: number, updated: number): number;
}
