/**
 * Nullability of result columns and parameters, read from PostgreSQL's analysed query tree. The server has
 * already resolved every name (aliases, `*`, USING, CTEs, subqueries), so this only follows Vars to where they come
 * from. A column is non-null only when it is a NOT NULL table column that no outer join (or grouping set) can null,
 * or an expression known non-null (count, EXISTS, a non-null literal, COALESCE with a non-null argument, …).
 */
import { int, isNode, listOf, nodesOf, type PgNode, type PgValue } from "./node-tree.js";

/** What the analysis needs from the catalog. */
export interface NullabilityFacts {
  /** attnotnull (or a NOT NULL domain) of table column (relid, attnum). */
  columnNotNull(relid: number, attnum: number): boolean;
  /** "always": never returns NULL (count, row_number, now, …); "strict": NULL only for a NULL argument. */
  functionKind(oid: number): "always" | "strict" | undefined;
  /** Operators that return NULL only for a NULL operand (`+ - * / % || = <> < > <= >=` on built-in types). */
  strictOperator(oid: number): boolean;
}

export interface QueryNullability {
  /** Per result column (in order): true when known non-null. */
  readonly columns: readonly boolean[];
  /** Parameter numbers (1-based) whose every use assigns a nullable column (INSERT values, UPDATE SET). */
  readonly nullableParams: ReadonlySet<number>;
}

const CMD_SELECT = "1";
const CMD_MERGE = "5";
const JOIN_LEFT = 1;
const JOIN_FULL = 2;
const JOIN_RIGHT = 3;
const RTE_RELATION = "0";
const RTE_SUBQUERY = "1";
const RTE_JOIN = "2";
const RTE_VALUES = "5";
const RTE_CTE = "6";
const RTE_GROUP = "9";
const SUBLINK_EXISTS = "0";
const SUBLINK_ARRAY = "6";
const PARAM_EXTERN = "0";
const COERCE_EXPLICIT_CAST = "1";
const COERCE_IMPLICIT_CAST = "2";

interface Scope {
  readonly query: PgNode;
  readonly parent: Scope | undefined;
  /** Range-table indexes on the nullable side of an outer join. */
  readonly nulled: ReadonlySet<number>;
  readonly groupingSets: boolean;
}

export function analyzeNullability(tree: PgNode, facts: NullabilityFacts): QueryNullability {
  const analyzer = new Analyzer(facts);
  const count = outputColumns(tree).length;
  const columns: boolean[] = [];
  for (let i = 0; i < count; i++) columns.push(analyzer.column(tree, undefined, i));
  return { columns, nullableParams: nullableParams(tree, facts) };
}

/** The non-junk entries of what a query returns: its target list, or RETURNING for DML. */
function outputColumns(query: PgNode): PgNode[] {
  const list = query.commandType === CMD_SELECT ? query.targetList : query.returningList;
  return nodesOf(list).filter((te) => te.resjunk !== "true");
}

function scopeOf(query: PgNode, parent: Scope | undefined): Scope {
  const nulled = new Set<number>();
  const walk = (item: PgValue, isNulled: boolean): void => {
    if (!isNode(item)) return;
    if (item.type === "FROMEXPR") {
      for (const child of listOf(item.fromlist)) walk(child, isNulled);
    } else if (item.type === "JOINEXPR") {
      const jt = int(item.jointype);
      walk(item.larg ?? null, isNulled || jt === JOIN_RIGHT || jt === JOIN_FULL);
      walk(item.rarg ?? null, isNulled || jt === JOIN_LEFT || jt === JOIN_FULL);
      if (isNulled) nulled.add(int(item.rtindex));
    } else if (item.type === "RANGETBLREF" && isNulled) {
      nulled.add(int(item.rtindex));
    }
  };
  walk(query.jointree ?? null, false);
  if (query.commandType === CMD_MERGE) {
    // MERGE joins source and target in ways the parse tree leaves to the planner: only the target is trusted.
    const target = int(query.resultRelation);
    listOf(query.rtable).forEach((_, i) => {
      if (i + 1 !== target) nulled.add(i + 1);
    });
  }
  return { query, parent, nulled, groupingSets: listOf(query.groupingSets).length > 0 };
}

class Analyzer {
  readonly #facts: NullabilityFacts;
  /** CTEs being analysed: a recursive reference is assumed non-null (sound: the base case decides). */
  readonly #inProgress = new Set<PgNode>();

  constructor(facts: NullabilityFacts) {
    this.#facts = facts;
  }

  /** Whether output column `index` of `query` is non-null. */
  column(query: PgNode, parent: Scope | undefined, index: number): boolean {
    const scope = scopeOf(query, parent);
    if (isNode(query.setOperations)) {
      const leaves: number[] = [];
      const collect = (op: PgValue | undefined): void => {
        if (isNode(op, "RANGETBLREF")) leaves.push(int(op.rtindex));
        else if (isNode(op, "SETOPERATIONSTMT")) {
          collect(op.larg);
          collect(op.rarg);
        }
      };
      collect(query.setOperations);
      const rtable = listOf(query.rtable);
      return leaves.every((rt) => {
        const rte = rtable[rt - 1];
        return isNode(rte) && isNode(rte.subquery) && this.column(rte.subquery, scope, index);
      });
    }
    const te = outputColumns(query)[index];
    return te !== undefined && this.expr(te.expr, scope);
  }

  expr(e: PgValue | undefined, scope: Scope): boolean {
    if (!isNode(e)) return false;
    switch (e.type) {
      case "VAR":
        return this.#var(e, scope);
      case "CONST":
        return e.constisnull === "false";
      case "AGGREF":
        return this.#facts.functionKind(int(e.aggfnoid)) === "always";
      case "WINDOWFUNC":
        return this.#facts.functionKind(int(e.winfnoid)) === "always";
      case "SUBLINK":
        return e.subLinkType === SUBLINK_EXISTS || e.subLinkType === SUBLINK_ARRAY;
      case "COALESCEEXPR":
      case "MINMAXEXPR":
        return listOf(e.args).some((a) => this.expr(a, scope));
      case "BOOLEXPR":
        return listOf(e.args).every((a) => this.expr(a, scope));
      case "NULLTEST":
      case "BOOLEANTEST":
      case "DISTINCTEXPR":
      case "SQLVALUEFUNCTION":
      case "ROWEXPR":
      case "ARRAYEXPR":
        return true;
      case "CASEEXPR":
        return (
          nodesOf(e.args).every((w) => this.expr(w.result, scope)) &&
          isNode(e.defresult) &&
          this.expr(e.defresult, scope)
        );
      case "RELABELTYPE":
      case "COERCEVIAIO":
      case "ARRAYCOERCEEXPR":
      case "COERCETODOMAIN":
      case "COLLATEEXPR":
      case "CONVERTROWTYPEEXPR":
        return this.expr(e.arg, scope);
      case "FUNCEXPR": {
        const args = listOf(e.args);
        if (e.funcformat === COERCE_EXPLICIT_CAST || e.funcformat === COERCE_IMPLICIT_CAST) {
          return args.length > 0 && this.expr(args[0], scope);
        }
        const kind = this.#facts.functionKind(int(e.funcid));
        return kind === "always" || (kind === "strict" && args.every((a) => this.expr(a, scope)));
      }
      case "OPEXPR":
        return this.#facts.strictOperator(int(e.opno)) && listOf(e.args).every((a) => this.expr(a, scope));
      default:
        return false;
    }
  }

  #var(v: PgNode, from: Scope): boolean {
    let scope: Scope | undefined = from;
    for (let up = int(v.varlevelsup); up > 0 && scope; up--) scope = scope.parent;
    if (!scope) return false;
    const rt = int(v.varno);
    const attno = int(v.varattno);
    if (v.varreturningtype !== undefined && v.varreturningtype !== "0") return false; // RETURNING old./new.
    if (scope.nulled.has(rt)) return false;
    const rte = listOf(scope.query.rtable)[rt - 1];
    if (!isNode(rte)) return false;
    switch (rte.rtekind) {
      case RTE_RELATION:
        if (scope.groupingSets) return false;
        return attno <= 0 || this.#facts.columnNotNull(int(rte.relid), attno);
      case RTE_SUBQUERY:
        return isNode(rte.subquery) && attno > 0 && this.column(rte.subquery, scope, attno - 1);
      case RTE_JOIN: {
        const alias = listOf(rte.joinaliasvars)[attno - 1];
        return this.expr(alias, scope);
      }
      case RTE_VALUES:
        return listOf(rte.values_lists).every((row) => this.expr(listOf(row)[attno - 1], scope));
      case RTE_CTE: {
        let owner: Scope | undefined = scope;
        for (let up = int(rte.ctelevelsup); up > 0 && owner; up--) owner = owner.parent;
        const cte = owner && nodesOf(owner.query.cteList).find((c) => c.ctename === rte.ctename);
        if (!owner || !cte || !isNode(cte.ctequery)) return false;
        if (this.#inProgress.has(cte)) return true;
        this.#inProgress.add(cte);
        try {
          return this.column(cte.ctequery, owner, attno - 1);
        } finally {
          this.#inProgress.delete(cte);
        }
      }
      case RTE_GROUP:
        return !scope.groupingSets && this.expr(listOf(rte.groupexprs)[attno - 1], scope);
      default:
        return false;
    }
  }
}

/** Strips implicit/explicit casts and relabelling around an expression. */
function bare(e: PgValue | undefined): PgValue | undefined {
  while (isNode(e)) {
    if (e.type === "RELABELTYPE" || e.type === "COERCEVIAIO" || e.type === "COERCETODOMAIN") e = e.arg;
    else if (
      e.type === "FUNCEXPR" &&
      (e.funcformat === COERCE_EXPLICIT_CAST || e.funcformat === COERCE_IMPLICIT_CAST) &&
      listOf(e.args).length >= 1
    )
      e = listOf(e.args)[0];
    else break;
  }
  return e;
}

/**
 * A parameter may be NULL when every place it appears assigns it straight to a nullable column: INSERT values,
 * UPDATE SET, ON CONFLICT DO UPDATE SET, MERGE actions. Anywhere else (WHERE, expressions) it must be a value.
 */
function nullableParams(tree: PgNode, facts: NullabilityFacts): Set<number> {
  const assigned = new Map<number, number>();
  const nullable = new Map<number, boolean>();
  const assign = (expr: PgValue | undefined, relid: number, attnum: number, rtable: PgValue[]): void => {
    const e = bare(expr);
    if (isNode(e, "PARAM") && e.paramkind === PARAM_EXTERN) {
      const id = int(e.paramid);
      assigned.set(id, (assigned.get(id) ?? 0) + 1);
      nullable.set(id, (nullable.get(id) ?? true) && !facts.columnNotNull(relid, attnum));
    } else if (isNode(e, "VAR") && e.varlevelsup === "0") {
      const rte = rtable[int(e.varno) - 1];
      if (isNode(rte) && rte.rtekind === RTE_VALUES) {
        for (const row of listOf(rte.values_lists)) assign(listOf(row)[int(e.varattno) - 1], relid, attnum, rtable);
      }
    }
  };
  const visitQuery = (q: PgNode): void => {
    for (const cte of nodesOf(q.cteList)) if (isNode(cte.ctequery)) visitQuery(cte.ctequery);
    const rtable = listOf(q.rtable);
    const target = rtable[int(q.resultRelation) - 1];
    if (!isNode(target) || target.rtekind !== RTE_RELATION) return;
    const relid = int(target.relid);
    const entries = (list: PgValue | undefined): void => {
      for (const te of nodesOf(list)) if (te.resjunk !== "true") assign(te.expr, relid, int(te.resno), rtable);
    };
    if (q.commandType === "2" || q.commandType === "3") entries(q.targetList);
    if (isNode(q.onConflict)) entries(q.onConflict.onConflictSet);
    for (const action of nodesOf(q.mergeActionList)) entries(action.targetList);
  };
  visitQuery(tree);
  const total = new Map<number, number>();
  const count = (v: PgValue | undefined): void => {
    if (Array.isArray(v)) for (const x of v) count(x);
    else if (isNode(v)) {
      if (v.type === "PARAM" && v.paramkind === PARAM_EXTERN)
        total.set(int(v.paramid), (total.get(int(v.paramid)) ?? 0) + 1);
      else if (v.type !== "RANGETBLENTRY" || v.rtekind !== RTE_GROUP) {
        for (const key in v) if (key !== "type") count(v[key]);
      }
    }
  };
  count(tree);
  const out = new Set<number>();
  for (const [id, n] of assigned) if (nullable.get(id) && total.get(id) === n) out.add(id);
  return out;
}
