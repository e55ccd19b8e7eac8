/**
 * The expression half of every renderer: per-render state, identifier quoting (the dialect's one quoting function
 * from core/identifiers), placeholders and parameter names, literals for logs, and expressions. Statements are
 * rendered by BaseRenderer (base.ts), which extends this.
 */
import type { Expr, ParamExpr, SelectItem, SetItem, StatementNode, TableNode } from "../core/ast/nodes.js";
import { type ContainsTemplate, containsPattern, type RenderOptions } from "../core/ast/render.js";
import type { BuildContext } from "../core/builder-protocol.js";
import { DialectNotSupportedError } from "../core/errors.js";
import { quoteIdent, quotePath } from "../core/identifiers.js";
import { defaultJsonSerializer, JsonValue } from "../core/json.js";
import type { Dialect } from "../core/types.js";

export type { RenderOptions };

export abstract class SqlWriter {
  readonly dialect: Dialect = "postgres";
  /** Placeholder prefix for named dialects (`:` / `@`); undefined = positional. */
  protected namedPrefix: string | undefined = undefined;
  /** `$n` instead of `?`. */
  protected numbered = false;
  protected boolAsInt = false;
  protected hasILike = false;
  protected hasNullsOrder = true;
  /** What makes backslash the LIKE escape character; empty where it already is (PostgreSQL, MySQL, BigQuery). */
  protected likeEscape = " ESCAPE '\\'";
  /** Table aliases written with AS (Oracle forbids it). */
  protected tableAs = " AS ";

  // Per-render state.
  protected sql = "";
  protected params: unknown[] = [];
  protected record: Record<string, unknown> = {};
  protected nextSuffix: Map<string, number> | undefined;
  protected sharedSlots: Map<ParamExpr, string | number> | undefined;
  protected inline = false;
  protected ctx: BuildContext | undefined;

  protected abstract statement(node: StatementNode): void;

  // ---------------------------------------------------------------------------------------------------------
  // Identifiers, values

  /** One identifier part, quoted by the dialect's one quoting function. */
  ident(name: string): string {
    return quoteIdent(name, this.dialect);
  }

  /** A parsed (possibly qualified) name, every part quoted; a last `*` stays bare. */
  quoteName(parts: readonly string[]): string {
    return quotePath(parts, this.dialect);
  }

  protected path(parts: readonly string[]): void {
    this.sql += quotePath(parts, this.dialect);
  }

  /** The value actually bound: sqlite/oracle cannot bind booleans. */
  protected encode(v: unknown): unknown {
    return this.boolAsInt && typeof v === "boolean" ? (v ? 1 : 0) : v;
  }

  protected param(p: ParamExpr): void {
    if (this.inline) {
      this.sql += this.literal(p.value);
      return;
    }
    if (p.shared === true) {
      const slot = this.sharedSlots?.get(p);
      if (slot !== undefined && (this.namedPrefix !== undefined || this.numbered)) {
        this.sql += this.namedPrefix !== undefined ? this.namedPrefix + slot : `$${slot}`;
        return;
      }
    }
    if (this.namedPrefix !== undefined) {
      const name = this.allocName(p.name);
      this.record[name] = this.encode(p.value);
      this.sql += this.namedPrefix + name;
      if (p.shared === true) this.slots().set(p, name);
    } else {
      const n = this.params.push(this.encode(p.value));
      if (this.numbered) {
        this.sql += `$${n}`;
        if (p.shared === true) this.slots().set(p, n);
      } else this.sql += "?";
    }
  }

  private slots(): Map<ParamExpr, string | number> {
    if (this.sharedSlots === undefined) this.sharedSlots = new Map();
    return this.sharedSlots;
  }

  /** Readable unique names: `name`, then `name_1`, `name_2`, … */
  protected allocName(base: string): string {
    if (!Object.hasOwn(this.record, base) && !this.bindReserved(base)) return base;
    if (this.nextSuffix === undefined) this.nextSuffix = new Map();
    const next = this.nextSuffix;
    let i = next.get(base) ?? 1;
    while (Object.hasOwn(this.record, `${base}_${i}`)) i++;
    next.set(base, i + 1);
    return `${base}_${i}`;
  }

  protected bindReserved(_name: string): boolean {
    return false;
  }

  protected value(v: unknown, name: string): void {
    this.param({ kind: "param", name, value: v });
  }

  /** Escaped literal for logs (toSQL showParameters). */
  literal(v: unknown): string {
    if (v === null || v === undefined) return "NULL";
    switch (typeof v) {
      case "number":
        return Number.isFinite(v) ? String(v) : this.quoteString(String(v));
      case "bigint":
        return v.toString();
      case "boolean":
        return this.boolAsInt ? (v ? "1" : "0") : v ? "TRUE" : "FALSE";
      case "string":
        return this.quoteString(v);
    }
    if (v instanceof JsonValue) return this.quoteString(defaultJsonSerializer(v.value));
    if (v instanceof Date) return this.quoteString(v.toISOString());
    if (v instanceof Uint8Array) return this.bytesLiteral(Buffer.from(v).toString("hex"));
    if (Array.isArray(v)) return this.arrayLiteral(v);
    return this.quoteString(defaultJsonSerializer(v));
  }

  protected quoteString(s: string): string {
    return `'${s.includes("'") ? s.split("'").join("''") : s}'`;
  }
  protected bytesLiteral(hex: string): string {
    return `X'${hex}'`;
  }
  protected arrayLiteral(v: readonly unknown[]): string {
    return this.quoteString(defaultJsonSerializer(v));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Expressions

  expr(e: Expr): void {
    switch (e.kind) {
      case "ref":
        this.path(e.path);
        return;
      case "param":
        this.param(e);
        return;
      case "raw":
        this.sql += e.sql;
        return;
      case "frag": {
        const { parts, args } = e;
        this.sql += parts[0];
        for (let i = 0; i < args.length; i++) {
          this.expr(args[i]!);
          this.sql += parts[i + 1];
        }
        return;
      }
      case "cmp":
        this.expr(e.left);
        this.sql += ` ${e.op} `;
        this.expr(e.right);
        return;
      case "and":
      case "or": {
        const sep = e.kind === "and" ? " AND " : " OR ";
        for (let i = 0; i < e.items.length; i++) {
          if (i > 0) this.sql += sep;
          const it = e.items[i]!;
          // Parenthesise where precedence would otherwise change: OR inside AND, user text holding OR.
          const wrap =
            (e.kind === "and" && (it.kind === "or" || ((it.kind === "raw" || it.kind === "frag") && it.loose))) ||
            (e.kind === "or" && it.kind === "and");
          if (wrap) this.sql += "(";
          this.expr(it);
          if (wrap) this.sql += ")";
        }
        return;
      }
      case "null":
        this.expr(e.left);
        this.sql += e.not ? " IS NOT NULL" : " IS NULL";
        return;
      case "between":
        this.expr(e.left);
        this.sql += e.not ? " NOT BETWEEN " : " BETWEEN ";
        this.expr(e.low);
        this.sql += " AND ";
        this.expr(e.high);
        return;
      case "like":
        if (e.ci && !this.hasILike) {
          this.sql += "LOWER(";
          this.expr(e.left);
          this.sql += e.not ? ") NOT LIKE LOWER(" : ") LIKE LOWER(";
          this.expr(e.right);
          this.sql += ")";
        } else {
          this.expr(e.left);
          this.sql += (e.not ? " NOT " : " ") + (e.ci ? "ILIKE " : "LIKE ");
          this.expr(e.right);
        }
        return;
      case "in":
        this.inList(e.left, e.list, e.not);
        return;
      case "contains": {
        const t = this.containsTemplate(e.not, e.ci);
        this.sql += t.parts[0];
        this.expr(e.left);
        this.sql += t.parts[1];
        this.value(t.pattern ? containsPattern(e.value) : e.value, e.name);
        this.sql += t.parts[2];
        return;
      }
      case "sub":
        this.sql += "(";
        this.statement(e.query);
        this.sql += ")";
        return;
    }
  }

  /**
   * Substring test: ILIKE where the dialect has it, `LOWER(x) LIKE LOWER(?)` otherwise; a plain LIKE when case
   * matters (dialects whose LIKE ignores case override this).
   */
  containsTemplate(not: boolean, ignoreCase: boolean): ContainsTemplate {
    const like = not ? " NOT LIKE " : " LIKE ";
    if (ignoreCase && !this.hasILike)
      return { parts: ["LOWER(", `)${like}LOWER(`, `)${this.likeEscape}`], pattern: true };
    return { parts: ["", ignoreCase ? (not ? " NOT ILIKE " : " ILIKE ") : like, this.likeEscape], pattern: true };
  }

  /** `x IN (?, ?, …)` with one bound value per item; postgres overrides with `= ANY($n)`. */
  protected inList(left: Expr, list: ParamExpr | { kind: "sub"; query: StatementNode }, not: boolean): void {
    if (list.kind === "sub") {
      this.expr(left);
      this.sql += not ? " NOT IN " : " IN ";
      this.expr(list);
      return;
    }
    const items = list.value as readonly unknown[];
    if (items.length === 0) {
      // An empty IN list is a syntax error in most dialects; it is simply false (true for NOT IN).
      this.sql += not ? "1 = 1" : "1 = 0";
      return;
    }
    this.expr(left);
    this.sql += not ? " NOT IN (" : " IN (";
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.sql += ", ";
      this.value(items[i], list.name);
    }
    this.sql += ")";
  }

  protected items(items: readonly SelectItem[]): void {
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.sql += ", ";
      const it = items[i]!;
      this.expr(it.expr);
      if (it.alias !== undefined) this.sql += ` AS ${this.ident(it.alias)}`;
    }
  }

  protected exprList(list: readonly Expr[]): void {
    for (let i = 0; i < list.length; i++) {
      if (i > 0) this.sql += ", ";
      this.expr(list[i]!);
    }
  }

  protected columnList(cols: readonly string[]): void {
    for (let i = 0; i < cols.length; i++) {
      if (i > 0) this.sql += ", ";
      this.sql += this.ident(cols[i]!);
    }
  }

  protected table(t: TableNode): void {
    this.expr(t.source);
    if (t.alias !== undefined) this.sql += this.tableAs + this.ident(t.alias);
  }

  protected tables(list: readonly TableNode[]): void {
    for (let i = 0; i < list.length; i++) {
      if (i > 0) this.sql += ", ";
      this.table(list[i]!);
    }
  }

  protected setList(set: readonly SetItem[]): void {
    for (let i = 0; i < set.length; i++) {
      if (i > 0) this.sql += ", ";
      const s = set[i]!;
      this.path(s.column);
      this.sql += " = ";
      this.expr(s.value);
    }
  }

  protected unsupported(what: string, instead: string): never {
    throw new DialectNotSupportedError(`${what} is not supported by the ${this.dialect} dialect. ${instead}`);
  }
}
