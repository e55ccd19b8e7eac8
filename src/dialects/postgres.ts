/**
 * PostgreSQL: `$n` placeholders, `= ANY($n)` for arrays, rows sources through ONE json parameter typed by the server,
 * the COPY staging SQL the bulk engine runs, and server-version guards: MERGE needs 15, `WHEN NOT MATCHED BY
 * SOURCE` and MERGE `RETURNING` need 17. Before 15 a MERGE that is really an upsert on a unique key becomes
 * INSERT … ON CONFLICT (the one translation in core/ast, `mergeToInsert`).
 *
 * A rows source is typed where it runs, by the server, never from a client-side catalog copy that DDL can outdate:
 * a column the statement copies unchanged into the same-named target column comes from
 * `json_populate_recordset(NULL::<target>, $1)` (exact type, typmod included); any other column is typed from its
 * values (or `types`) through `json_to_recordset`. So `toSQL()` shows exactly what a session runs.
 */

import {
  type Expr,
  inferKind,
  type MergeNode,
  type ParamExpr,
  type RowsSource,
  type StatementNode,
  type ValueKind,
} from "../core/ast/nodes.js";
import { RecordsPayload, type StagingSql } from "../core/ast/render.js";
import { directColumns, mergeToInsert, rowsOf } from "../core/ast/rewrite.js";
import { DialectNotSupportedError } from "../core/errors.js";
import type { ExplainSql } from "../core/explain.js";
import { parseName, quoteIdent, quotePath } from "../core/identifiers.js";
import type { Dialect } from "../core/types.js";
import { BaseRenderer } from "./base.js";
import { POSTGRES_EXPLAIN } from "./explain.js";

/** PostgreSQL type for each inferred value kind (source columns the target does not type). */
export const PG_TYPES: Record<ValueKind, string> = {
  int: "integer",
  bigint: "bigint",
  float: "double precision",
  text: "text",
  bool: "boolean",
  json: "jsonb",
  timestamp: "timestamptz",
  bytes: "bytea",
};

function versionLabel(v: number): string {
  return `${Math.floor(v / 10000)}.${v % 10000} (server_version_num ${v})`;
}

/** How each source column is typed: from the target (`undefined`) or as the given SQL type. */
function columnTypes(s: RowsSource, direct: ReadonlySet<string>): (string | undefined)[] {
  return s.columns.map((c) => {
    const explicit = s.types?.[c];
    if (explicit !== undefined) return explicit;
    if (direct.has(c)) return undefined;
    return PG_TYPES[s.kinds?.[c] ?? inferKind(s.rows, c)];
  });
}

const q = (part: string) => quoteIdent(part, "postgres");

/** The COPY staging statements (bulk engine). */
const STAGING: StagingSql = {
  createStage(stage, statement) {
    const r = rowsOf(statement);
    if (!r) throw new DialectNotSupportedError("Only a statement reading rows can be staged.");
    const types = columnTypes(r.source, directColumns(statement));
    const target = `(NULL::${quotePath(r.target, "postgres")})`;
    const cols = r.source.columns.map((c, i) => {
      const t = types[i];
      return `${t === undefined ? `${target}.${q(c)}` : `NULL::${t}`} AS ${q(c)}`;
    });
    return `CREATE TEMP TABLE ${q(stage[stage.length - 1] as string)} ON COMMIT DROP AS SELECT ${cols.join(", ")} WITH NO DATA`;
  },
  sourceTypes(statement) {
    const r = rowsOf(statement);
    if (!r) throw new DialectNotSupportedError("Only a statement reading rows can be staged.");
    return columnTypes(r.source, directColumns(statement));
  },
  dropStage(stage) {
    return `DROP TABLE IF EXISTS ${quotePath(stage, "postgres")}`;
  },
};

export class PostgresRenderer extends BaseRenderer {
  override readonly dialect: Dialect = "postgres";
  readonly explain: ExplainSql = POSTGRES_EXPLAIN;
  protected override numbered = true;
  protected override hasILike = true;
  protected override likeEscape = "";
  readonly staging: StagingSql = STAGING;
  override readonly arrayParameters: boolean = true;
  override readonly transactionalTruncate: boolean = true;

  /** Arrays bind as ONE parameter: `= ANY($1)` keeps the statement text stable for any list length. */
  protected override inList(left: Expr, list: ParamExpr | { kind: "sub"; query: StatementNode }, not: boolean): void {
    if (list.kind === "sub") {
      super.inList(left, list, not);
      return;
    }
    this.expr(left);
    this.sql += not ? " <> ALL(" : " = ANY(";
    this.param(list);
    this.sql += ")";
  }

  protected override arrayLiteral(v: readonly unknown[]): string {
    if (v.length === 0) return "'{}'";
    let out = "ARRAY[";
    for (let i = 0; i < v.length; i++) out += (i > 0 ? ", " : "") + this.literal(v[i]);
    return `${out}]`;
  }

  protected override bytesLiteral(hex: string): string {
    return `'\\x${hex}'::bytea`;
  }

  /**
   * One json parameter, typed by the server where a column takes its target's type:
   * - every column direct: `(SELECT "a", "b" FROM json_populate_recordset(NULL::"t", $1::json)) AS "src"`;
   * - none direct: `(SELECT * FROM json_to_recordset($1::json) AS "src"("a" integer, …)) AS "src"`;
   * - mixed: each element read twice, laterally, by json_populate_record and json_to_record.
   */
  protected override rowsSource(s: RowsSource, target: readonly string[], direct: ReadonlySet<string>): void {
    const types = columnTypes(s, direct);
    const alias = this.ident(s.alias);
    const fromTarget = types.filter((t) => t === undefined).length;
    const typed = (cols: (t: string, c: string) => string) =>
      s.columns
        .map((c, i) => (types[i] === undefined ? "" : cols(types[i] as string, c)))
        .filter(Boolean)
        .join(", ");
    const rowType = `NULL::${this.quoteName(target)}`;
    if (fromTarget === s.columns.length) {
      this.sql += `(SELECT ${s.columns.map((c) => this.ident(c)).join(", ")} FROM json_populate_recordset(${rowType}, `;
      this.payload(s);
      this.sql += `)) AS ${alias}`;
    } else if (fromTarget === 0) {
      this.sql += "(SELECT * FROM json_to_recordset(";
      this.payload(s);
      this.sql += `) AS ${alias}(${typed((t, c) => `${this.ident(c)} ${t}`)})) AS ${alias}`;
    } else {
      const cols = s.columns.map((c, i) => `${types[i] === undefined ? '"p"' : '"x"'}.${this.ident(c)}`);
      this.sql += `(SELECT ${cols.join(", ")} FROM json_array_elements(`;
      this.payload(s);
      this.sql +=
        `) AS "e"("v") CROSS JOIN LATERAL json_populate_record(${rowType}, "e"."v") AS "p" ` +
        `CROSS JOIN LATERAL json_to_record("e"."v") AS "x"(${typed((t, c) => `${this.ident(c)} ${t}`)})) AS ${alias}`;
    }
  }

  private payload(s: RowsSource): void {
    this.param({ kind: "param", name: "payload", value: new RecordsPayload(s.rows, s.columns) });
    this.sql += "::json";
  }

  protected override merge(n: MergeNode): void {
    this.checkMerge(n);
    const v = this.ctx?.serverVersionNum;
    // The 17+ clauses first: before 15 too, so the error names what is missing rather than "MERGE needs 15+", and a
    // RETURNING is never carried into the INSERT … ON CONFLICT rewrite (merge_action() has no meaning there).
    if (v !== undefined && v < 170000) {
      if (n.whens.some((w) => w.match === "NOT MATCHED BY SOURCE")) {
        throw new DialectNotSupportedError(
          `MERGE … WHEN NOT MATCHED BY SOURCE needs PostgreSQL 17+, but the server is ${versionLabel(v)}. ` +
            "Run a separate DELETE/UPDATE … WHERE NOT EXISTS (…) instead.",
        );
      }
      if (n.returning) {
        throw new DialectNotSupportedError(
          `MERGE … RETURNING needs PostgreSQL 17+, but the server is ${versionLabel(v)}. Drop .returning() and query the rows afterwards.`,
        );
      }
    }
    if (v !== undefined && v < 150000) {
      this.mergeAsInsert(n, v);
      return;
    }
    super.merge(n);
  }

  /**
   * PostgreSQL < 15 has no MERGE. An upsert-shaped MERGE (ON = equality on a unique key, one unconditional
   * INSERT, at most one UPDATE) is exactly INSERT … SELECT … ON CONFLICT (key) DO UPDATE.
   */
  protected mergeAsInsert(n: MergeNode & { target: readonly string[] }, v: number): void {
    const fail = (why: string): never => {
      throw new DialectNotSupportedError(
        `MERGE needs PostgreSQL 15+, but the server is ${versionLabel(v)}; it can only be rewritten to ` +
          `INSERT … ON CONFLICT when ${why}.`,
      );
    };
    const insert = mergeToInsert(n, { form: "select", dialect: "postgres", defaultInsert: false, fail });
    const keys = insert.conflict?.columns ?? [];
    const name = quotePath(n.target, "postgres");
    let known: readonly (readonly string[])[] | undefined;
    for (const [table, sets] of this.ctx?.uniqueKeys ?? []) {
      if (quotePath(parseName(table), "postgres") === name) known = sets;
    }
    const isUnique = known?.some((k) => k.length === keys.length && k.every((c) => keys.includes(c)));
    if (!isUnique) fail(`the ON columns (${keys.join(", ")}) are a unique key of ${name}`);
    this.insert(insert);
  }
}
