/**
 * `sqlspec generate`: load named statements, describe each on a real engine (an in-memory PGlite built from the
 * project's schema, a live PostgreSQL server, or SQLite), and write one typed module.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { PgDescriber, StatementDescription } from "../adapters/postgres-common/describe.js";
import { getPlan } from "../core/compiler.js";
import { SQLSpecError } from "../core/errors.js";
import { type Dialect, ParameterStyle } from "../core/types.js";
import { type LoadedQuery, SQLFileLoader } from "../loader/loader.js";
import { parseSqlText } from "../loader/parse.js";
import { type DescribedQuery, renderModule, type TypedColumn, type TypedParams } from "./emit.js";
import { PgCatalog } from "./postgres/catalog.js";
import { parseNodeTree } from "./postgres/node-tree.js";
import { analyzeNullability } from "./postgres/nullability.js";
import { type Int8Mode, PgTypeMapper } from "./postgres/ts-types.js";

/** A problem with the input (SQL, schema, options): the CLI prints it without a stack and exits 1. */
export class TypegenError extends SQLSpecError {}

export interface GenerateOptions {
  /** SQL files or folders. */
  readonly sources: readonly string[];
  /** The module to write; generated paths are relative to its folder. */
  readonly out: string;
  /** A schema file or a migrations folder, applied to an in-memory engine. */
  readonly schema?: string | undefined;
  /** A live PostgreSQL server (or, with dialect sqlite, a database file). */
  readonly databaseUrl?: string | undefined;
  readonly dialect?: "postgres" | "sqlite" | undefined;
  /** Must match the adapters' `driverFeatures.int8`. Default "number". */
  readonly int8?: Int8Mode | undefined;
  /** Where the module imports `typedQuery` from. Default "sqlspec". */
  readonly importFrom?: string | undefined;
  /** Module that exports the types named in column annotations (`AS "meta: OrderMeta"`). */
  readonly typesFrom?: string | undefined;
  /** An engine to describe on instead of opening one (left open; tests share one PGlite this way). */
  readonly engine?: PgDescriber | undefined;
}

export interface GenerateResult {
  readonly code: string;
  readonly queries: readonly DescribedQuery[];
  /** Queries left out because their `-- dialect:` line names another dialect. */
  readonly skipped: readonly string[];
}

const GLOBAL_TYPES = new Set([
  "string",
  "number",
  "boolean",
  "bigint",
  "unknown",
  "null",
  "undefined",
  "never",
  "object",
  "any",
  "Date",
  "Buffer",
  "Uint8Array",
  "Record",
  "Array",
  "ReadonlyArray",
  "Partial",
  "Readonly",
]);

export async function generate(options: GenerateOptions): Promise<GenerateResult> {
  const dialect = options.dialect ?? "postgres";
  if (dialect !== "postgres" && dialect !== "sqlite") {
    throw new TypegenError(`--dialect must be "postgres" or "sqlite", not "${dialect}"`);
  }
  const int8 = options.int8 ?? "number";
  if (!["number", "bigint", "string"].includes(int8)) {
    throw new TypegenError(`--int8 must be "number", "bigint" or "string", not "${int8}"`);
  }
  if (options.sources.length === 0) throw new TypegenError("Give at least one SQL file or folder");
  const loader = new SQLFileLoader().load(...options.sources);
  const outDir = dirname(resolve(options.out));
  const all = loader.listQueries().map((n) => loader.getQuery(n));
  const selected = all.filter((q) => q.dialect === undefined || q.dialect === dialect);
  const skipped = all.filter((q) => !selected.includes(q)).map((q) => q.name);
  const fileOf = (q: LoadedQuery) => relative(outDir, q.file).split(sep).join("/");

  let described: DescribedQuery[];
  let enums: { alias: string; labels: readonly string[] }[] = [];
  if (dialect === "sqlite") {
    const { describeSqlite } = await import("./sqlite.js");
    described = await describeSqlite(selected, { ...options, int8 }, fileOf);
  } else {
    const result = await describePostgres(selected, options, int8, fileOf);
    described = result.queries;
    enums = result.enums;
  }
  const typeImports = annotationImports(selected, options.typesFrom);
  const code = renderModule(described, {
    importFrom: options.importFrom ?? "sqlspec",
    enums,
    typeImports,
  });
  return { code, queries: described, skipped };
}

function annotationImports(queries: readonly LoadedQuery[], from: string | undefined) {
  const names = new Set<string>();
  for (const q of queries) {
    for (const a of q.annotations) {
      const bare = a.type?.replace(/(\[\])+$/, "");
      if (bare && /^[A-Za-z_$][\w$]*$/.test(bare) && !GLOBAL_TYPES.has(bare)) {
        if (!from) {
          throw new TypegenError(
            `${q.name}: the annotation type "${a.type}" must be imported: pass --types-from <module> that exports it`,
          );
        }
        names.add(bare);
      }
    }
  }
  return from ? { from, names: [...names] } : undefined;
}

/** Where a query failed: its file and line, plus the line inside the statement when the server gave a position. */
function located(q: LoadedQuery, text: string, err: unknown): string {
  const e = err as { message?: string; position?: string | number };
  let line = q.bodyLine;
  const pos = Number(e.position);
  if (Number.isFinite(pos) && pos > 0) line += text.slice(0, pos - 1).split("\n").length - 1;
  return `${relative(process.cwd(), q.file) || q.file}:${line}: ${q.name}: ${e.message ?? String(err)}`;
}

async function describePostgres(
  queries: readonly LoadedQuery[],
  options: GenerateOptions,
  int8: Int8Mode,
  fileOf: (q: LoadedQuery) => string,
): Promise<{ queries: DescribedQuery[]; enums: { alias: string; labels: readonly string[] }[] }> {
  let engine: PgDescriber;
  if (options.engine) {
    engine = options.engine;
  } else if (options.databaseUrl) {
    const { createPgDescriber } = await import("../adapters/pg/describe.js");
    engine = await createPgDescriber(options.databaseUrl);
  } else if (options.schema) {
    engine = await createSchemaEngine(options.schema);
  } else {
    throw new TypegenError("Give --schema <file.sql | migrations folder> (embedded PGlite) or --database-url <url>");
  }
  try {
    const plans = queries.map((q) => getPlan(q.text, ParameterStyle.NUMERIC, "postgres"));
    const descriptions: (StatementDescription | undefined)[] = [];
    const failures: string[] = [];
    for (let i = 0; i < queries.length; i++) {
      try {
        descriptions.push(await engine.describe(plans[i]!.sql));
      } catch (err) {
        descriptions.push(undefined);
        failures.push(located(queries[i]!, plans[i]!.sql, err));
      }
    }
    if (failures.length) {
      throw new TypegenError(
        `${failures.length} of ${queries.length} queries failed to describe:\n  ${failures.join("\n  ")}`,
      );
    }
    const typeOids = descriptions.flatMap((d) => [...d!.paramTypes, ...d!.fields.map((f) => f.typeOid)]);
    const trees = descriptions.map((d) => (d!.parseTree ? parseNodeTree(d!.parseTree) : undefined));
    const relids = new Set<number>(descriptions.flatMap((d) => d!.fields.map((f) => f.tableOid)));
    for (const t of trees) if (t) collectRelids(t, relids);
    const catalog = await PgCatalog.load(engine, typeOids, relids);
    const types = new PgTypeMapper(catalog, int8);
    const out: DescribedQuery[] = [];
    for (let i = 0; i < queries.length; i++) {
      const q = queries[i]!;
      const plan = plans[i]!;
      const d = descriptions[i]!;
      const tree = trees[i];
      const analysis = tree ? analyzeNullability(tree, catalog) : undefined;
      const nonNull =
        analysis && analysis.columns.length === d.fields.length ? analysis.columns : d.fields.map(() => false);
      const nullableParams = analysis?.nullableParams ?? new Set<number>();
      const paramType = (k: number) => {
        const t = types.input(d.paramTypes[k] ?? 0);
        return nullableParams.has(k + 1) && t !== "unknown" ? `${t} | null` : t;
      };
      let params: TypedParams = { kind: "none" };
      if (plan.parameterNames) {
        params = { kind: "named", fields: plan.parameterNames.map((name, k) => ({ name, type: paramType(k) })) };
      } else if (plan.placeholderCount > 0) {
        params = { kind: "positional", items: d.paramTypes.map((_, k) => paramType(k)) };
      }
      const columns = plan.returnsRows || d.fields.length > 0 ? columnsOf(q, d, nonNull, types) : undefined;
      out.push({ name: q.name, file: fileOf(q), dialect: "postgres", text: q.text, params, columns });
    }
    return { queries: out, enums: [...types.enums.values()] };
  } finally {
    if (engine !== options.engine) await engine.close().catch(() => undefined);
  }
}

function columnsOf(
  q: LoadedQuery,
  d: StatementDescription,
  nonNull: readonly boolean[],
  types: PgTypeMapper,
): TypedColumn[] {
  const seen = new Set<string>();
  return d.fields.map((f, k) => {
    if (seen.has(f.name)) {
      throw new TypegenError(
        `${relative(process.cwd(), q.file)}:${q.line}: ${q.name}: two result columns are named "${f.name}"; give one an alias`,
      );
    }
    seen.add(f.name);
    return applyAnnotation(q, { name: f.name, type: types.output(f.typeOid), nullable: !nonNull[k] });
  });
}

export function applyAnnotation(q: LoadedQuery, column: TypedColumn): TypedColumn {
  const a = q.annotations.find((x) => x.column === column.name);
  if (!a) return column;
  return {
    name: column.name,
    type: a.type ?? column.type,
    nullable: a.nullability === "!" ? false : a.nullability === "?" ? true : column.nullable,
  };
}

function collectRelids(node: unknown, out: Set<number>): void {
  if (Array.isArray(node)) for (const x of node) collectRelids(x, out);
  else if (node && typeof node === "object") {
    const n = node as Record<string, unknown>;
    if (n.type === "RANGETBLENTRY" && n.rtekind === "0" && typeof n.relid === "string") out.add(Number(n.relid));
    for (const k in n) if (k !== "type") collectRelids(n[k], out);
  }
}

/**
 * What `--schema` applies, in order: a file as is; a folder's `.sql` files recursively in path order. A file of
 * `-- name:` blocks (sqlspec migrations) contributes its `…_up` blocks only.
 */
/** An in-memory PGlite with the schema applied, for describing (see `engine`). */
export async function createSchemaEngine(schema: string): Promise<PgDescriber> {
  const { createPgliteDescriber } = await import("../adapters/pglite/describe.js");
  const pglite = await createPgliteDescriber();
  try {
    for (const step of schemaSteps(schema)) {
      try {
        await pglite.exec(step.sql);
      } catch (err) {
        throw new TypegenError(`schema ${step.label}: ${(err as Error).message}`, { cause: err });
      }
    }
  } catch (err) {
    await pglite.close().catch(() => undefined);
    throw err;
  }
  return pglite;
}

export function schemaSteps(path: string): { label: string; sql: string }[] {
  const abs = resolve(path);
  const stat = statSync(abs, { throwIfNoEntry: false });
  if (!stat) throw new TypegenError(`--schema: no such file or folder: ${path}`);
  const files: string[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => !e.name.startsWith("."))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.sql$/i.test(e.name)) files.push(full);
      else if (/\.(c|m)?(t|j)s$/i.test(e.name)) {
        throw new TypegenError(
          `--schema: ${relative(process.cwd(), full)} is a TypeScript/JavaScript migration, which generate cannot apply; ` +
            "point --schema at SQL (a schema dump or SQL migrations), or use --database-url",
        );
      }
    }
  };
  if (stat.isDirectory()) walk(abs);
  else files.push(abs);
  const steps: { label: string; sql: string }[] = [];
  for (const file of files) {
    const label = relative(process.cwd(), file) || file;
    const content = readFileSync(file, "utf8");
    if (!/^\s*--\s*name\s*:/im.test(content)) {
      steps.push({ label, sql: content });
      continue;
    }
    const blocks = parseSqlText(content, label);
    const directional = blocks.some((b) => /_(up|down)$/i.test(b.name));
    for (const b of blocks) {
      if (!directional || /_up$/i.test(b.name)) steps.push({ label: `${label}:${b.line} (${b.name})`, sql: b.text });
    }
  }
  return steps;
}

export type { Dialect };
