/**
 * Oracle: `:name` binds, table aliases without AS, `OFFSET … ROWS FETCH NEXT … ROWS ONLY`, booleans as 1/0, MINUS,
 * no RECURSIVE keyword, and its own MERGE shape (ON in parentheses, one WHEN MATCHED whose UPDATE may carry
 * `WHERE` and `DELETE WHERE`). Rows become a MERGE source through `JSON_TABLE(:payload, '$[*]' COLUMNS …)`.
 * Unquoted identifiers fold to upper case in Oracle, so upper-case names are left bare too.
 */

import type {
  ConflictNode,
  CteNode,
  DeleteNode,
  InsertNode,
  LockNode,
  MergeNode,
  MergeSource,
  SelectItem,
  UpdateNode,
  WhenNode,
} from "../builder/nodes.js";
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
/** Keywords that are safer quoted as identifiers in modern Oracle SQL. */
const ORACLE_RESERVED = new Set([
  ...ORACLE_BIND_RESERVED,
  ..."fetch offset join inner outer left right full cross natural using limit true false".split(" "),
]);

const ORACLE_TYPES: Record<ValueKind, string> = {
  int: "NUMBER",
  bigint: "NUMBER",
  float: "NUMBER",
  text: "VARCHAR2(4000)",
  bool: "BOOLEAN",
  json: "CLOB FORMAT JSON",
  timestamp: "TIMESTAMP WITH TIME ZONE",
  bytes: "VARCHAR2(4000)",
};

export class OracleRenderer extends BaseRenderer {
  override readonly dialect: Dialect = "oracle";
  protected override reserved: ReadonlySet<string> = ORACLE_RESERVED;
  protected override namedPrefix: string | undefined = ":";
  protected override boolAsInt = true;
  protected override tableAs = " ";
  protected override dualTable = " FROM DUAL";

  protected override needsQuote(name: string): boolean {
    const n = name.length;
    if (n === 0) return true;
    for (let i = 0; i < n; i++) {
      const c = name.charCodeAt(i);
      const letter = (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
      if (!(letter || (i > 0 && ((c >= 48 && c <= 57) || c === 95)))) return true;
    }
    return ORACLE_RESERVED.has(name.toLowerCase());
  }

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

  protected override mergeSource(s: MergeSource, target: string): void {
    if (s.kind === "table") {
      this.table(s.table);
      return;
    }
    const catalog = this.ctx?.columnTypes?.get(target);
    this.sql += "(SELECT * FROM JSON_TABLE(";
    this.param({ kind: "param", name: "payload", value: new JsonValue(s.rows) });
    this.sql += ", '$[*]' COLUMNS (";
    for (let i = 0; i < s.columns.length; i++) {
      const c = s.columns[i]!;
      if (i > 0) this.sql += ", ";
      const type = s.types?.[c] ?? catalog?.get(c) ?? ORACLE_TYPES[s.kinds?.[c] ?? inferKind(s.rows, c)];
      const simple = /^[A-Za-z_][A-Za-z0-9_]*$/.test(c);
      const jsonPath = simple ? `$.${c}` : `$."${c.replace(/["\\]/g, "\\$&")}"`;
      this.sql += `${this.ident(c)} ${type} PATH ${this.quoteString(jsonPath)}`;
    }
    this.sql += `))) ${this.ident(s.alias)}`;
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
    this.path(n.target.split("."));
    if (n.alias !== undefined) this.sql += ` ${this.ident(n.alias)}`;
    this.sql += " USING ";
    this.mergeSource(n.source, n.target);
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
