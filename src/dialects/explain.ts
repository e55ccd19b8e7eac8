/**
 * EXPLAIN per engine: the prefix for `sql.explain`/`session.explain` options (an option the engine lacks is refused
 * before any I/O) and how the engine's rows read back as a JSON plan or text lines.
 */
import type { BuildContext } from "../core/builder-protocol.js";
import { DialectNotSupportedError } from "../core/errors.js";
import type { ExplainOptions, ExplainSql } from "../core/explain.js";
import type { Row } from "../core/types.js";

type Flag = "analyze" | "verbose" | "costs" | "buffers" | "settings";

/** Refuses `true` for each flag the engine lacks, naming what it has. */
function refuse(engine: string, options: ExplainOptions, lacks: readonly Flag[], json: boolean): void {
  for (const flag of lacks) {
    if (options[flag] === true) {
      throw new DialectNotSupportedError(
        `EXPLAIN option ${flag} is not available on ${engine}. Nothing was sent.` +
          (flag === "analyze" ? " Time the statement instead." : ""),
      );
    }
  }
  if (!json && options.format === "json") {
    throw new DialectNotSupportedError(
      `EXPLAIN format "json" is not available on ${engine}; use "text". Nothing was sent.`,
    );
  }
}

/** The value of a JSON plan cell: drivers hand back parsed JSON (json columns) or its text. */
function parsed(value: unknown): unknown {
  return typeof value === "string" ? JSON.parse(value) : value;
}

function lastColumn(row: Row | undefined, columns: readonly string[]): unknown {
  if (row === undefined) return undefined;
  const key = columns[columns.length - 1] ?? Object.keys(row).pop();
  return key === undefined ? undefined : row[key];
}

/** PostgreSQL: `EXPLAIN (ANALYZE, VERBOSE, COSTS false, …, FORMAT JSON)`; one `QUERY PLAN` row per line, or one JSON cell. */
export const POSTGRES_EXPLAIN: ExplainSql = {
  prefix(options) {
    const parts: string[] = [];
    for (const flag of ["analyze", "verbose", "costs", "buffers", "settings"] as const) {
      const v = options[flag];
      if (v !== undefined) parts.push(v ? flag.toUpperCase() : `${flag.toUpperCase()} FALSE`);
    }
    if (options.format === "json") parts.push("FORMAT JSON");
    return parts.length === 0 ? "EXPLAIN " : `EXPLAIN (${parts.join(", ")}) `;
  },
  plan: (rows, columns) => parsed(lastColumn(rows[0], columns)),
  lines: (rows, columns) => rows.map((r) => String(lastColumn(r, columns))),
};

/**
 * MySQL / MariaDB: `EXPLAIN [FORMAT=JSON]`; with `analyze`, MariaDB's `ANALYZE [FORMAT=JSON]` or MySQL's
 * `EXPLAIN ANALYZE` (a text tree). The flavor comes from the session's server (MySQL when unknown).
 */
export const MYSQL_EXPLAIN: ExplainSql = {
  prefix(options, ctx: BuildContext | undefined) {
    const mariadb = ctx?.serverFlavor === "mariadb";
    const engine = mariadb ? "MariaDB" : "MySQL";
    refuse(engine, options, ["verbose", "costs", "buffers", "settings"], true);
    const json = options.format === "json" ? "FORMAT=JSON " : "";
    if (options.analyze !== true) return `EXPLAIN ${json}`;
    if (mariadb) return `ANALYZE ${json}`;
    if (json !== "") {
      throw new DialectNotSupportedError(
        'EXPLAIN ANALYZE on MySQL reports a text tree; use format "text" (MariaDB has ANALYZE FORMAT=JSON). Nothing was sent.',
      );
    }
    return "EXPLAIN ANALYZE ";
  },
  plan: (rows, columns) => parsed(lastColumn(rows[0], columns)),
  lines(rows, columns) {
    // One cell holding the plan (MySQL's tree): its lines; the classic table: one line of column=value per row.
    if (columns.length === 1) return rows.flatMap((r) => String(lastColumn(r, columns)).split("\n"));
    return rows.map((r) => columns.map((c) => `${c}=${r[c] === null ? "NULL" : String(r[c])}`).join(" "));
  },
};

/** SQLite: `EXPLAIN QUERY PLAN` only; its `id/parent/detail` rows become lines indented by tree depth. */
export const SQLITE_EXPLAIN: ExplainSql = {
  prefix(options) {
    refuse("SQLite", options, ["analyze", "verbose", "costs", "buffers", "settings"], false);
    return "EXPLAIN QUERY PLAN ";
  },
  plan: () => undefined,
  lines(rows) {
    const depth = new Map<number, number>();
    return rows.map((r) => {
      const d = (depth.get(Number(r.parent)) ?? -1) + 1;
      depth.set(Number(r.id), d);
      return `${"  ".repeat(d)}${String(r.detail)}`;
    });
  },
};

/** DuckDB: `EXPLAIN`, `EXPLAIN ANALYZE`, `(FORMAT JSON)`; the plan is the `explain_value` cell. */
export const DUCKDB_EXPLAIN: ExplainSql = {
  prefix(options) {
    refuse("DuckDB", options, ["verbose", "costs", "buffers", "settings"], true);
    const analyze = options.analyze === true;
    if (options.format === "json") return analyze ? "EXPLAIN (ANALYZE, FORMAT JSON) " : "EXPLAIN (FORMAT JSON) ";
    return analyze ? "EXPLAIN ANALYZE " : "EXPLAIN ";
  },
  plan: (rows, columns) => parsed(lastColumn(rows[0], columns)),
  lines: (rows, columns) => rows.flatMap((r) => String(lastColumn(r, columns)).replace(/\n$/, "").split("\n")),
};
