/** Statement filters as builder conditions: what `builder.filter(...)` adds to the builder's own WHERE. */
import { and, type Expr, or, type ParamExpr, paramName } from "../core/ast/nodes.js";
import { rangeConditions, type StatementFilter } from "../core/filters.js";

function param(path: readonly string[], value: unknown, suffix = ""): ParamExpr {
  return { kind: "param", name: paramName(path[path.length - 1] as string) + suffix, value };
}

/**
 * The WHERE condition of a filter; `undefined` when the filter adds none (a null collection, a range without
 * bounds) or is about pagination (OrderByFilter, LimitOffsetFilter: the select builder applies those itself).
 */
export function filterCondition(f: StatementFilter): Expr | undefined {
  switch (f.kind) {
    case "search":
    case "notInSearch": {
      const not = f.kind === "notInSearch";
      let out: Expr | undefined;
      for (const path of f.paths) {
        const e: Expr = {
          kind: "contains",
          left: { kind: "ref", path },
          value: f.value,
          name: `${paramName(path[path.length - 1] as string)}_search`,
          not,
          ci: f.ignoreCase,
        };
        // search: any field contains the value; not-in-search: no field does.
        out = not ? and(out, e) : or(out, e);
      }
      return out;
    }
    case "inCollection":
    case "anyCollection":
    case "notInCollection":
    case "notAnyCollection": {
      if (f.values === null || f.values === undefined) return undefined;
      const not = f.kind === "notInCollection" || f.kind === "notAnyCollection";
      // An empty NOT IN list is no filter; an empty IN list is rendered as false by the dialect.
      if (not && f.values.length === 0) return undefined;
      return { kind: "in", left: { kind: "ref", path: f.path }, not, list: param(f.path, f.values) };
    }
    case "beforeAfter":
    case "onBeforeAfter": {
      let out: Expr | undefined;
      for (const [op, v] of rangeConditions(f)) {
        const suffix = op.startsWith("<") ? "_before" : "_after";
        out = and(out, { kind: "cmp", left: { kind: "ref", path: f.path }, op, right: param(f.path, v, suffix) });
      }
      return out;
    }
    case "null":
    case "notNull":
      return { kind: "null", left: { kind: "ref", path: f.path }, not: f.kind === "notNull" };
    case "orderBy":
    case "limitOffset":
      return undefined;
  }
}
