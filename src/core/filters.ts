/**
 * Statement filters: small value objects that refine a query (a search box, a date range, a page). The same filter
 * objects apply to SQL text (`session.select(text, params, { filters })` wraps the statement as a subquery) and to a
 * builder (`builder.filter(...filters)` adds its own WHERE / ORDER BY / LIMIT). Field names are identifiers (quoted,
 * quoted parts understood); values are always bound. A filter whose value is `null`/`undefined` is no filter.
 */
import { SQLBuilderError } from "./errors.js";
import { parseName } from "./identifiers.js";

/** A value a range filter compares with: bound as is (a Date binds as a timestamp). */
export type FilterValue = Date | string | number | bigint;

function fieldPath(field: unknown, what: string): readonly string[] {
  return parseName(field, `${what} field`);
}

function fieldList(field: unknown, what: string): readonly (readonly string[])[] {
  const list = typeof field === "string" ? [field] : field;
  if (!Array.isArray(list) || list.length === 0) {
    throw new SQLBuilderError(`${what} needs a field name or a non-empty list of field names.`);
  }
  return list.map((f) => fieldPath(f, what));
}

function collection(values: unknown, what: string): readonly unknown[] | null | undefined {
  if (values === null || values === undefined || Array.isArray(values)) return values;
  throw new SQLBuilderError(`${what} values must be an array (or null/undefined for no filter).`);
}

/** `LIMIT limit OFFSET offset`. */
export class LimitOffsetFilter {
  /** Discriminant of the {@link StatementFilter} union. */
  readonly kind = "limitOffset";
  /** @throws {@link SQLBuilderError} when `limit` or `offset` is not a non-negative safe integer. */
  constructor(
    /** Maximum number of rows. */
    readonly limit: number,
    /** Rows to skip first; default 0. */
    readonly offset = 0,
  ) {
    for (const [n, what] of [
      [limit, "limit"],
      [offset, "offset"],
    ] as const) {
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new SQLBuilderError(`LimitOffsetFilter ${what} must be a non-negative integer, got ${String(n)}.`);
      }
    }
  }
}

/** `ORDER BY field [ASC|DESC]`. */
export class OrderByFilter {
  /** Discriminant of the {@link StatementFilter} union. */
  readonly kind = "orderBy";
  /** @internal `field` split into its identifier parts. */
  readonly path: readonly string[];
  /** @throws {@link SQLBuilderError} for an invalid field name or a direction other than `"asc"`/`"desc"`. */
  constructor(
    /** Column to sort by (`"name"`, `"p.name"`); quoted as an identifier. */
    readonly field: string,
    /** Sort direction; default `"asc"`. */
    readonly direction: "asc" | "desc" = "asc",
  ) {
    this.path = fieldPath(field, "OrderByFilter");
    if (direction !== "asc" && direction !== "desc") {
      throw new SQLBuilderError(`OrderByFilter direction must be "asc" or "desc", got ${String(direction)}.`);
    }
  }
}

/** Options of the search filters. */
export interface SearchOptions {
  /** Match regardless of case (ILIKE, or LOWER() on both sides). Default true. */
  ignoreCase?: boolean;
}

function ignoreCaseOf(o: boolean | SearchOptions | undefined): boolean {
  if (typeof o === "boolean") return o;
  return o?.ignoreCase ?? true;
}

/**
 * `field LIKE %value%` over one or more fields, OR-ed: a row matches when any field contains `value`. `%`, `_` and
 * `\` in the value are literal. Case-insensitive unless `{ ignoreCase: false }` (or `false`) is passed.
 */
export class SearchFilter {
  /** Discriminant of the {@link StatementFilter} union. */
  readonly kind: "search" | "notInSearch" = "search";
  /** The columns searched. */
  readonly fields: readonly string[];
  /** @internal `fields` split into identifier parts. */
  readonly paths: readonly (readonly string[])[];
  /** Whether the match ignores case. */
  readonly ignoreCase: boolean;
  /**
   * @param field - One column or a non-empty list of columns.
   * @param options - `{ ignoreCase }`, or the boolean itself; default case-insensitive.
   * @throws {@link SQLBuilderError} for an empty field list, an invalid name, or a non-string value.
   */
  constructor(
    field: string | readonly string[],
    /** The text to look for; `%`, `_` and `\` in it match literally. */
    readonly value: string,
    options?: boolean | SearchOptions,
  ) {
    this.fields = typeof field === "string" ? [field] : field;
    this.paths = fieldList(field, this.constructor.name);
    if (typeof value !== "string") throw new SQLBuilderError(`${this.constructor.name} value must be a string.`);
    this.ignoreCase = ignoreCaseOf(options);
  }
}

/**
 * `field NOT LIKE %value%` over one or more fields, AND-ed: a row matches when no field contains `value`. A NULL
 * field is not a match (SQL's NOT LIKE of NULL is unknown), as in sqlspec. Case-insensitive by default.
 */
export class NotInSearchFilter extends SearchFilter {
  /** Discriminant of the {@link StatementFilter} union. */
  override readonly kind = "notInSearch";
}

/** A field and a list of values; `null`/`undefined` values mean no filter. */
abstract class CollectionFilter {
  /** @internal `field` split into identifier parts. */
  readonly path: readonly string[];
  /** The values to match, each bound; `null`/`undefined` means no filter. */
  readonly values: readonly unknown[] | null | undefined;
  /** @throws {@link SQLBuilderError} for an invalid field name or values that are not an array, null or undefined. */
  constructor(
    /** The column compared (quoted as an identifier). */
    readonly field: string,
    values: readonly unknown[] | null | undefined,
  ) {
    this.path = fieldPath(field, this.constructor.name);
    this.values = collection(values, this.constructor.name);
  }
}

/** `field IN (values)`. `null`/`undefined` values mean no filter (as in sqlspec); an empty list matches nothing. */
export class InCollectionFilter extends CollectionFilter {
  /** Discriminant of the {@link StatementFilter} union. */
  readonly kind: "inCollection" | "anyCollection" = "inCollection";
}

/** `field NOT IN (values)`. `null`/`undefined` values or an empty list mean no filter. */
export class NotInCollectionFilter extends CollectionFilter {
  /** Discriminant of the {@link StatementFilter} union. */
  readonly kind: "notInCollection" | "notAnyCollection" = "notInCollection";
}

/**
 * `field = ANY(values)` (one array parameter on PostgreSQL; an IN list where the dialect has no arrays). The same rows
 * as InCollectionFilter: `null`/`undefined` is no filter, an empty list matches nothing.
 */
export class AnyCollectionFilter extends InCollectionFilter {
  /** Discriminant of the {@link StatementFilter} union. */
  override readonly kind = "anyCollection";
}

/** `NOT (field = ANY(values))`: the same rows as NotInCollectionFilter (empty or missing list = no filter). */
export class NotAnyCollectionFilter extends NotInCollectionFilter {
  /** Discriminant of the {@link StatementFilter} union. */
  override readonly kind = "notAnyCollection";
}

function rangeValue(v: unknown, what: string): FilterValue | undefined {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new SQLBuilderError(`${what} is an invalid Date.`);
    return v;
  }
  if (typeof v === "string" || typeof v === "number" || typeof v === "bigint") return v;
  throw new SQLBuilderError(`${what} must be a Date, string, number or bigint, got ${typeof v}.`);
}

/** The two optional bounds of a range filter, checked once. */
abstract class RangeFilter {
  /** @internal `field` split into identifier parts. */
  readonly path: readonly string[];
  /** The upper bound (before / on or before). */
  readonly upper: FilterValue | undefined;
  /** The lower bound (after / on or after). */
  readonly lower: FilterValue | undefined;
  constructor(
    /** The column compared (quoted as an identifier). */
    readonly field: string,
    upper: FilterValue | null | undefined,
    lower: FilterValue | null | undefined,
    what: string,
  ) {
    this.path = fieldPath(field, what);
    this.upper = rangeValue(upper, `${what} upper bound`);
    this.lower = rangeValue(lower, `${what} lower bound`);
  }
}

/** `field < before AND field > after` (bounds excluded); a missing bound is no condition. */
export class BeforeAfterFilter extends RangeFilter {
  /** Discriminant of the {@link StatementFilter} union. */
  readonly kind = "beforeAfter";
  /**
   * @param field - The column compared.
   * @param before - Exclusive upper bound; `null`/`undefined` for none.
   * @param after - Exclusive lower bound; `null`/`undefined` for none.
   * @throws {@link SQLBuilderError} for an invalid field, an invalid Date, or a bound of another type.
   */
  constructor(field: string, before?: FilterValue | null, after?: FilterValue | null) {
    super(field, before, after, "BeforeAfterFilter");
  }
  /** The exclusive upper bound, if any. */
  get before(): FilterValue | undefined {
    return this.upper;
  }
  /** The exclusive lower bound, if any. */
  get after(): FilterValue | undefined {
    return this.lower;
  }
}

/** `field <= onOrBefore AND field >= onOrAfter` (bounds included); a missing bound is no condition. */
export class OnBeforeAfterFilter extends RangeFilter {
  /** Discriminant of the {@link StatementFilter} union. */
  readonly kind = "onBeforeAfter";
  /**
   * @param field - The column compared.
   * @param onOrBefore - Inclusive upper bound; `null`/`undefined` for none.
   * @param onOrAfter - Inclusive lower bound; `null`/`undefined` for none.
   * @throws {@link SQLBuilderError} for an invalid field, an invalid Date, or a bound of another type.
   */
  constructor(field: string, onOrBefore?: FilterValue | null, onOrAfter?: FilterValue | null) {
    super(field, onOrBefore, onOrAfter, "OnBeforeAfterFilter");
  }
  /** The inclusive upper bound, if any. */
  get onOrBefore(): FilterValue | undefined {
    return this.upper;
  }
  /** The inclusive lower bound, if any. */
  get onOrAfter(): FilterValue | undefined {
    return this.lower;
  }
}

/** `field IS NULL`. */
export class NullFilter {
  /** Discriminant of the {@link StatementFilter} union. */
  readonly kind: "null" | "notNull" = "null";
  /** @internal `field` split into identifier parts. */
  readonly path: readonly string[];
  /** @throws {@link SQLBuilderError} for an invalid field name. */
  constructor(
    /** The column tested (quoted as an identifier). */
    readonly field: string,
  ) {
    this.path = fieldPath(field, this.constructor.name);
  }
}

/** `field IS NOT NULL`. */
export class NotNullFilter extends NullFilter {
  /** Discriminant of the {@link StatementFilter} union. */
  override readonly kind = "notNull";
}

/**
 * Any filter `session.select(…, { filters })`, `selectWithTotal` and `builder.filter(…)` accept; switch on `kind`
 * to tell them apart.
 */
export type StatementFilter =
  | LimitOffsetFilter
  | OrderByFilter
  | SearchFilter
  | NotInSearchFilter
  | InCollectionFilter
  | NotInCollectionFilter
  | AnyCollectionFilter
  | NotAnyCollectionFilter
  | BeforeAfterFilter
  | OnBeforeAfterFilter
  | NullFilter
  | NotNullFilter;

/** A range filter's conditions as [operator, value] pairs, upper bound first. */
export function rangeConditions(f: BeforeAfterFilter | OnBeforeAfterFilter): [string, FilterValue][] {
  const out: [string, FilterValue][] = [];
  const eq = f.kind === "onBeforeAfter" ? "=" : "";
  if (f.upper !== undefined) out.push([`<${eq}`, f.upper]);
  if (f.lower !== undefined) out.push([`>${eq}`, f.lower]);
  return out;
}

/** Whether the filters order or page the result (selectWithTotal counts without them). */
export function hasPagination(filters: readonly StatementFilter[]): boolean {
  return filters.some((f) => f.kind === "limitOffset" || f.kind === "orderBy");
}
