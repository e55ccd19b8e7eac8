/**
 * Catalog facts for typegen, read with plain queries from whichever engine described the statements (PGlite or a
 * live server), so both give the same answers: types (enums with their labels, domains, arrays), NOT NULL columns,
 * and the built-in functions and operators the nullability analysis trusts.
 */
import type { NullabilityFacts } from "./nullability.js";

export interface PgQueryRunner {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

export interface PgType {
  readonly oid: number;
  readonly name: string;
  readonly schema: string;
  /** typtype: b base, c composite, d domain, e enum, p pseudo, r range, m multirange. */
  readonly kind: string;
  readonly category: string;
  readonly elem: number;
  readonly base: number;
  readonly notNull: boolean;
  readonly labels: readonly string[];
}

/** Never NULL, whatever the arguments. */
const ALWAYS = [
  "count",
  "row_number",
  "rank",
  "dense_rank",
  "percent_rank",
  "cume_dist",
  "now",
  "clock_timestamp",
  "statement_timestamp",
  "transaction_timestamp",
  "gen_random_uuid",
  "random",
  "version",
  "current_database",
  "concat",
  "jsonb_build_object",
  "json_build_object",
  "jsonb_build_array",
  "json_build_array",
];
/** NULL only for a NULL argument. */
const STRICT = [
  "lower",
  "upper",
  "length",
  "char_length",
  "character_length",
  "octet_length",
  "btrim",
  "ltrim",
  "rtrim",
  "abs",
  "round",
  "floor",
  "ceil",
  "ceiling",
  "trunc",
  "date_trunc",
  "md5",
  "replace",
  "initcap",
  "left",
  "right",
  "lpad",
  "rpad",
  "repeat",
  "reverse",
  "to_jsonb",
  "to_json",
  "row_to_json",
  "array_to_string",
  "cardinality",
  "split_part",
  "substr",
];
const STRICT_OPERATORS = ["+", "-", "*", "/", "%", "||", "=", "<>", "<", ">", "<=", ">="];

export class PgCatalog implements NullabilityFacts {
  readonly #types = new Map<number, PgType>();
  readonly #notNull = new Set<string>();
  readonly #functions = new Map<number, "always" | "strict">();
  readonly #operators = new Set<number>();

  private constructor() {}

  static async load(runner: PgQueryRunner, typeOids: Iterable<number>, relids: Iterable<number>): Promise<PgCatalog> {
    const c = new PgCatalog();
    const relidList = [...new Set(relids)].filter((r) => r > 0);
    const columns = relidList.length
      ? await runner.query<{ relid: number; num: number; notnull: boolean; type: number }>(
          `SELECT attrelid::int AS relid, attnum::int AS num, attnotnull AS notnull, atttypid::int AS type
             FROM pg_catalog.pg_attribute WHERE attrelid = ANY($1::oid[]) AND attnum > 0 AND NOT attisdropped`,
          [relidList],
        )
      : [];
    await c.#loadTypes(runner, [...typeOids, ...columns.map((col) => col.type)]);
    for (const col of columns) {
      if (col.notnull || c.#domainNotNull(col.type)) c.#notNull.add(`${col.relid}:${col.num}`);
    }
    const procs = await runner.query<{ oid: number; name: string }>(
      `SELECT oid::int AS oid, proname AS name FROM pg_catalog.pg_proc
        WHERE pronamespace = 'pg_catalog'::regnamespace AND proname = ANY($1::text[])`,
      [[...ALWAYS, ...STRICT]],
    );
    for (const p of procs) c.#functions.set(p.oid, ALWAYS.includes(p.name) ? "always" : "strict");
    const ops = await runner.query<{ oid: number }>(
      `SELECT oid::int AS oid FROM pg_catalog.pg_operator
        WHERE oprnamespace = 'pg_catalog'::regnamespace AND oprname = ANY($1::text[])`,
      [STRICT_OPERATORS],
    );
    for (const o of ops) c.#operators.add(o.oid);
    return c;
  }

  async #loadTypes(runner: PgQueryRunner, oids: number[]): Promise<void> {
    let pending = [...new Set(oids)].filter((o) => o > 0 && !this.#types.has(o));
    while (pending.length > 0) {
      const rows = await runner.query<Omit<PgType, "labels">>(
        `SELECT t.oid::int AS oid, t.typname AS name, n.nspname AS schema, t.typtype AS kind,
                t.typcategory AS category, t.typelem::int AS elem, t.typbasetype::int AS base, t.typnotnull AS "notNull"
           FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
          WHERE t.oid = ANY($1::oid[])`,
        [pending],
      );
      const enums = rows.filter((r) => r.kind === "e").map((r) => r.oid);
      const labels = new Map<number, string[]>();
      if (enums.length) {
        const rowsE = await runner.query<{ oid: number; label: string }>(
          `SELECT enumtypid::int AS oid, enumlabel AS label FROM pg_catalog.pg_enum
            WHERE enumtypid = ANY($1::oid[]) ORDER BY enumtypid, enumsortorder`,
          [enums],
        );
        for (const e of rowsE) labels.set(e.oid, [...(labels.get(e.oid) ?? []), e.label]);
      }
      for (const r of rows) this.#types.set(r.oid, { ...r, labels: labels.get(r.oid) ?? [] });
      pending = [...new Set(rows.flatMap((r) => [r.elem, r.base]))].filter((o) => o > 0 && !this.#types.has(o));
    }
  }

  #domainNotNull(oid: number): boolean {
    for (let t = this.#types.get(oid); t && t.kind === "d"; t = this.#types.get(t.base)) if (t.notNull) return true;
    return false;
  }

  type(oid: number): PgType | undefined {
    return this.#types.get(oid);
  }

  columnNotNull(relid: number, attnum: number): boolean {
    return this.#notNull.has(`${relid}:${attnum}`);
  }

  functionKind(oid: number): "always" | "strict" | undefined {
    return this.#functions.get(oid);
  }

  strictOperator(oid: number): boolean {
    return this.#operators.has(oid);
  }
}
