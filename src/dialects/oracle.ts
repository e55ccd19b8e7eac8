/**
 * Oracle: `:name` binds, table aliases without AS, `OFFSET … ROWS FETCH NEXT … ROWS ONLY`, booleans as 1/0, MINUS,
 * no RECURSIVE keyword, and its own MERGE shape (ON in parentheses, one WHEN MATCHED whose UPDATE may carry
 * `WHERE` and `DELETE WHERE`). Rows become a MERGE source through `JSON_TABLE(:payload, '$[*]' COLUMNS …)`.
 * Every identifier is quoted; an all-lower-case name is folded to upper case as Oracle folds unquoted names
 * (`products` → `"PRODUCTS"`), any other keeps its case. JSON_TABLE booleans are NUMBER(1) (1/0 in the payload)
 * unless the context says the server is 23 or newer (`serverVersionNum` ≥ 230000), which has BOOLEAN.
 */

import type {
  ConflictNode,
  CteNode,
  DeleteNode,
  InsertNode,
  LockNode,
  MergeNode,
  RowsSource,
  SelectItem,
  UpdateNode,
  WhenNode,
} from "../core/ast/nodes.js";
import { directColumns } from "../core/ast/rewrite.js";
import { parseName, quotePath } from "../core/identifiers.js";
import { JsonValue } from "../core/json.js";
import type { Dialect } from "../core/types.js";
import { BaseRenderer, inferKind, type ValueKind } from "./base.js";

/** Oracle's reserved words (V$RESERVED_WORDS): never bare identifiers, never bind names (ORA-01745). */
const ORACLE_BIND_RESERVED = new Set(
  (
    "access add all alter and any as asc audit between by char check cluster column comment compress connect create " +
    "current date decimal default delete desc distinct drop else exclusive exists file float for from grant group " +
    "having identified immediate in increment index initial insert integer intersect into is level like lock long " +
    "maxextents minus mlslabel mode modify noaudit nocompress not nowait null number of offline on online option or " +
    "order pctfree prior public raw rename resource revoke row rowid rownum rows select session set share size " +
    "smallint start successful synonym sysdate table then to trigger uid union unique update user validate values " +
    "varchar varchar2 view whenever where with"
  ).split(" "),
);
const ORACLE_TYPES: Record<ValueKind, string> = {
  int: "NUMBER",
  bigint: "NUMBER",
  float: "NUMBER",
  text: "VARCHAR2(4000)",
  bool: "NUMBER(1)",
  json: "CLOB FORMAT JSON",
  timestamp: "TIMESTAMP WITH TIME ZONE",
  bytes: "VARCHAR2(4000)",
};

export class OracleRenderer extends BaseRenderer {
  override readonly dialect: Dialect = "oracle";
  protected override namedPrefix: string | undefined = ":";
  protected override boolAsInt = true;
  protected override tableAs = " ";
  protected override dualTable = " FROM DUAL";

  /** ORA-01745: a bind name may not be a reserved word (`:date`), so such names start at `_1`. */
  protected override bindReserved(name: string): boolean {
    return ORACLE_BIND_RESERVED.has(name.toLowerCase());
  }

  protected override bytesLiteral(hex: string): string {
    return `HEXTORAW('${hex}')`;
  }

  protected override recursiveKeyword(_ctes: readonly CteNode[]): boolean {
    return false;
  }

  protected override setOpKeyword(op: "UNION" | "INTERSECT" | "EXCEPT"): string {
    return op === "EXCEPT" ? "MINUS" : op;
  }

  protected override limitOffset(limit: number | undefined, offset: number | undefined): void {
    if (offset !== undefined) {
      this.sql += " OFFSET ";
      this.value(offset, "offset");
      this.sql += " ROWS";
    }
    if (limit !== undefined) {
      this.sql += offset !== undefined ? " FETCH NEXT " : " FETCH FIRST ";
      this.value(limit, "limit");
      this.sql += " ROWS ONLY";
    }
  }

  protected override lock(l: LockNode): void {
    if (l.mode === "SHARE") this.unsupported("FOR SHARE", "Use FOR UPDATE, or LOCK TABLE … IN SHARE MODE.");
    super.lock(l);
  }

  protected override returning(_items: readonly SelectItem[]): void {
    this.unsupported("RETURNING", "Oracle needs RETURNING … INTO out-binds: query the rows afterwards.");
  }

  protected override insert(n: InsertNode): void {
    // Multi-row VALUES only exists from 23ai; INSERT ALL works on every version.
    if (n.select || n.rows.length <= 1 || n.conflict || n.duplicate || n.returning) {
      super.insert(n);
      return;
    }
    if (n.with) this.with(n.with);
    this.sql += "INSERT ALL";
    for (const row of n.rows) {
      this.sql += " INTO ";
      this.table(n.table);
      this.sql += " (";
      this.columnList(n.columns);
      this.sql += ") VALUES (";
      this.exprList(row);
      this.sql += ")";
    }
    this.sql += " SELECT 1 FROM DUAL";
  }

  protected override conflict(_c: ConflictNode, _n: InsertNode): void {
    this.unsupported("ON CONFLICT", "Use sql.merge() or sql.upsert(table, { dialect: 'oracle' }).");
  }

  protected override update(n: UpdateNode): void {
    if (n.from) this.unsupported("UPDATE … FROM", "Use MERGE, or a correlated subquery in SET/WHERE.");
    super.update(n);
  }

  protected override delete(n: DeleteNode): void {
    if (n.using) this.unsupported("DELETE … USING", "Use .where('id IN (SELECT …)') instead.");
    super.delete(n);
  }

  /** Oracle 23 has BOOLEAN (in SQL and JSON_TABLE); before it, booleans are NUMBER(1). */
  private hasBoolean(): boolean {
    const v = this.ctx?.serverVersionNum;
    return v !== undefined && v >= 230000;
  }

  protected override rowsSource(s: RowsSource, target: readonly string[], direct: ReadonlySet<string>): void {
    let catalog: ReadonlyMap<string, string> | undefined;
    const name = quotePath(target, "postgres");
    for (const [table, cols] of this.ctx?.columnTypes ?? []) {
      if (quotePath(parseName(table), "postgres") === name) catalog = cols;
    }
    const bool = this.hasBoolean() ? "BOOLEAN" : "NUMBER(1)";
    const boolCols: string[] = [];
    let cols = "";
    for (let i = 0; i < s.columns.length; i++) {
      const c = s.columns[i]!;
      if (i > 0) cols += ", ";
      const kind = s.kinds?.[c] ?? inferKind(s.rows, c);
      let type = s.types?.[c] ?? (direct.has(c) ? catalog?.get(c) : undefined);
      if (type === undefined) type = kind === "bool" ? bool : ORACLE_TYPES[kind];
      if (kind === "bool" && !/^boolean$/i.test(type)) boolCols.push(c);
      const simple = /^[A-Za-z_][A-Za-z0-9_]*$/.test(c);
      const jsonPath = simple ? `$.${c}` : `$."${c.replace(/["\\]/g, "\\$&")}"`;
      cols += `${this.ident(c)} ${type} PATH ${this.quoteString(jsonPath)}`;
    }
    // Without BOOLEAN, JSON true/false cannot be read as a number: the payload carries 1/0 instead.
    const rows =
      boolCols.length === 0
        ? s.rows
        : s.rows.map((r) => {
            const o: Record<string, unknown> = { ...r };
            for (const c of boolCols) if (typeof o[c] === "boolean") o[c] = o[c] ? 1 : 0;
            return o;
          });
    this.sql += "(SELECT * FROM JSON_TABLE(";
    this.param({ kind: "param", name: "payload", value: new JsonValue(rows) });
    this.sql += `, '$[*]' COLUMNS (${cols}))) ${this.ident(s.alias)}`;
  }

  protected override merge(n: MergeNode): void {
    this.checkMerge(n);
    let matched: WhenNode | undefined;
    let del: WhenNode | undefined;
    let insert: WhenNode | undefined;
    for (const w of n.whens) {
      if (w.match === "NOT MATCHED BY SOURCE") {
        this.unsupported("WHEN NOT MATCHED BY SOURCE", "Run a separate DELETE … WHERE NOT EXISTS (…).");
      }
      const slot = w.action === "UPDATE" ? matched : w.action === "DELETE" ? del : insert;
      if (slot) this.unsupported(`A second WHEN … ${w.action} clause`, "Oracle allows one of each: combine them.");
      if (w.action === "UPDATE") matched = w;
      else if (w.action === "DELETE") del = w;
      else insert = w;
    }
    if (del && !matched) {
      this.unsupported(
        "WHEN MATCHED THEN DELETE on its own",
        "Oracle deletes only rows its WHEN MATCHED UPDATE touched: add .whenMatchedThenUpdate(…).",
      );
    }
    if (n.returning) this.returning(n.returning);
    this.sql += "MERGE INTO ";
    this.path(n.target);
    if (n.alias !== undefined) this.sql += ` ${this.ident(n.alias)}`;
    this.sql += " USING ";
    this.source(n.source, n.target, n.source.kind === "rows" ? directColumns(n) : undefined);
    this.sql += " ON (";
    this.expr(n.on);
    this.sql += ")";
    if (matched) {
      this.sql += " WHEN MATCHED THEN UPDATE SET ";
      this.setList(matched.set!);
      if (matched.cond) {
        this.sql += " WHERE ";
        this.expr(matched.cond);
      }
      if (del) {
        this.sql += " DELETE WHERE ";
        if (del.cond) this.expr(del.cond);
        else this.sql += "1 = 1";
      }
    }
    if (insert) {
      this.sql += " WHEN NOT MATCHED THEN ";
      this.whenAction(insert);
      if (insert.cond) {
        this.sql += " WHERE ";
        this.expr(insert.cond);
      }
    }
  }
}
