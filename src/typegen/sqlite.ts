/**
 * SQLite typegen: better-sqlite3's `columns()` gives each result column's origin table, column and declared type.
 * SQLite exposes no query tree, so nullability is conservative: a column is non-null only when its origin column is
 * NOT NULL (or the rowid) and no outer join in the statement can null its table. Parameters are `unknown`: SQLite
 * does not type them.
 */
import { SqliteKind, sqliteKind } from "../adapters/sqlite/codecs.js";
import { getPlan } from "../core/compiler.js";
import { lex, TK_COMMENT, TK_LPAREN, TK_QIDENT, TK_WORD, wordIs } from "../core/lexer.js";
import { ParameterStyle } from "../core/types.js";
import type { LoadedQuery } from "../loader/loader.js";
import type { DescribedQuery, TypedParams } from "./emit.js";
import { applyAnnotation, type GenerateOptions, schemaSteps, TypegenError } from "./generate.js";
import type { Int8Mode } from "./postgres/ts-types.js";

/**
 * What the SQLite adapter returns for a declared type: its conversions first (JSON, BOOL…, DATE/TIME… columns, see
 * adapters/sqlite/codecs.ts), then SQLite's type affinity rules (https://www.sqlite.org/datatype3.html §3.1).
 */
function affinityType(declared: string | null, int8: Int8Mode): string {
  if (declared === null) return "unknown";
  switch (sqliteKind(declared)) {
    case SqliteKind.Json:
      return "unknown";
    case SqliteKind.Bool:
      return "boolean";
    case SqliteKind.Date:
      return "Date";
  }
  const t = declared.toUpperCase();
  if (t.includes("INT")) return int8 === "bigint" ? "bigint" : int8 === "string" ? "string" : "number";
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT")) return "string";
  if (t.includes("BLOB") || t === "") return "Buffer";
  return "number"; // REAL and NUMERIC affinity
}

/** Tables an outer join can null: `LEFT JOIN t` nulls t; RIGHT/FULL (or a joined subquery) nulls everything. */
function outerJoined(text: string): { all: boolean; tables: Set<string> } {
  const tokens = lex(text, "sqlite").filter((t) => t.kind !== TK_COMMENT);
  const tables = new Set<string>();
  let all = false;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    const left = wordIs(text, t, "LEFT");
    if (!left && !wordIs(text, t, "RIGHT") && !wordIs(text, t, "FULL")) continue;
    let j = k + 1;
    if (tokens[j] && wordIs(text, tokens[j]!, "OUTER")) j++;
    if (!tokens[j] || !wordIs(text, tokens[j]!, "JOIN")) continue;
    if (!left) {
      all = true;
      continue;
    }
    const target = tokens[j + 1];
    if (!target || target.kind === TK_LPAREN) all = true;
    else if (target.kind === TK_WORD || target.kind === TK_QIDENT) {
      const raw = text.slice(target.start, target.end);
      tables.add((target.kind === TK_QIDENT ? raw.slice(1, -1) : raw).toLowerCase());
    }
  }
  return { all, tables };
}

export async function describeSqlite(
  queries: readonly LoadedQuery[],
  options: GenerateOptions & { int8: Int8Mode },
  fileOf: (q: LoadedQuery) => string,
): Promise<DescribedQuery[]> {
  if (!options.schema && !options.databaseUrl) {
    throw new TypegenError("--dialect sqlite needs --schema <file.sql | migrations folder> or --database-url <file>");
  }
  const { createSqliteDescriber } = await import("../adapters/sqlite/describe.js");
  const file = options.databaseUrl?.replace(/^sqlite:(\/\/)?/, "");
  const db = await createSqliteDescriber(options.schema ? undefined : file);
  try {
    if (options.schema) {
      for (const step of schemaSteps(options.schema)) {
        try {
          db.exec(step.sql);
        } catch (err) {
          throw new TypegenError(`schema ${step.label}: ${(err as Error).message}`, { cause: err });
        }
      }
    }
    const notNull = new Map<string, Set<string>>();
    const failures: string[] = [];
    const out: DescribedQuery[] = [];
    for (const q of queries) {
      const plan = getPlan(q.text, ParameterStyle.QMARK, "sqlite");
      let described: ReturnType<typeof db.describe>;
      try {
        described = db.describe(plan.sql);
      } catch (err) {
        failures.push(`${q.file}:${q.bodyLine}: ${q.name}: ${(err as Error).message}`);
        continue;
      }
      let params: TypedParams = { kind: "none" };
      if (plan.parameterNames)
        params = { kind: "named", fields: plan.parameterNames.map((name) => ({ name, type: "unknown" })) };
      else if (plan.placeholderCount > 0)
        params = { kind: "positional", items: Array(plan.placeholderCount).fill("unknown") };
      const joins = outerJoined(q.text);
      const columns = described.columns?.map((c) => {
        let nonNull = false;
        if (c.table && c.column && !joins.all && !joins.tables.has(c.table.toLowerCase())) {
          let cols = notNull.get(c.table);
          if (!cols) {
            cols = db.notNullColumns(c.table);
            notNull.set(c.table, cols);
          }
          nonNull = cols.has(c.column);
        }
        return applyAnnotation(q, { name: c.name, type: affinityType(c.type, options.int8), nullable: !nonNull });
      });
      out.push({ name: q.name, file: fileOf(q), dialect: "sqlite", text: q.text, params, columns });
    }
    if (failures.length) {
      throw new TypegenError(
        `${failures.length} of ${queries.length} queries failed to describe:\n  ${failures.join("\n  ")}`,
      );
    }
    return out;
  } finally {
    db.close();
  }
}
