import type { Adapter, ColumnInfo, ServerVersion, UniqueIndex } from "./adapter.js";
import { FEATURES, type Feature, featureName, hasFeature, optimalType, type TypeCategory } from "./features.js";

/** Bulk plans kept per pool at most (see DataDictionary.keepPlan). */
const MAX_PLANS = 64;

/** Server facts cached per pool (one per config): the version, and catalog columns/unique keys per table. */
export class DataDictionaryCache {
  version: Promise<ServerVersion> | undefined;
  /** The introspector's schemaStamp when the entries below were read. */
  stamp: number | undefined;
  readonly columns = new Map<string, Promise<ColumnInfo[]>>();
  readonly uniqueKeys = new Map<string, Promise<UniqueIndex[]>>();
  /**
   * Bumped whenever cached facts are dropped: anything derived from them before (a bulk plan) is stale. Derived
   * entries are kept with the generation they were built at and used only while it is current.
   */
  generation = 0;
  /** Plans the bulk engine derived from the facts above (upsert.ts), by its own key; few, so never evicted one by one. */
  readonly plans = new Map<string, { generation: number; plan: unknown }>();

  clear(): void {
    this.version = undefined;
    this.columns.clear();
    this.uniqueKeys.clear();
    this.generation++;
    this.plans.clear();
  }

  /** Drop cached catalog facts for a table (after DDL, for instance). */
  invalidate(table?: string): void {
    this.generation++;
    this.plans.clear();
    if (table === undefined) {
      this.columns.clear();
      this.uniqueKeys.clear();
    } else {
      this.columns.delete(table);
      this.uniqueKeys.delete(table);
    }
  }
}

export type { Feature, TypeCategory } from "./features.js";

/** The session-facing data dictionary: version, feature checks and catalog columns, cached per pool. */
export class DataDictionary<Conn = unknown> {
  /** @internal Sessions make it (`session.dataDictionary`). */
  constructor(
    private readonly adapter: Adapter<Conn>,
    private readonly conn: () => Conn,
    private readonly cache: DataDictionaryCache,
  ) {}

  /**
   * The server's version (queried once per pool, then cached); `{ versionNum: 0, version: "unknown" }` without an
   * introspector.
   */
  getVersion(): Promise<ServerVersion> {
    const introspector = this.adapter.introspector;
    if (!introspector) return Promise.resolve({ versionNum: 0, version: "unknown" });
    if (this.cache.version === undefined) {
      this.cache.version = introspector.getVersion(this.adapter, this.conn()).catch((err) => {
        this.cache.version = undefined;
        throw err;
      });
    }
    return this.cache.version;
  }

  /**
   * Whether the server has a feature (`"merge"`, `"json"`, `"cte"`, …; sqlspec's `"supports_json"` spelling too),
   * checked against its version where that matters. A name not in listFeatures() answers false.
   */
  async supports(feature: Feature | `supports_${Feature}` | (string & {})): Promise<boolean> {
    const f = featureName(feature);
    if (f === undefined) return false;
    return hasFeature(this.adapter.dialect, this.adapter.capabilities, f, () => this.getVersion());
  }

  /** Every feature name supports() answers about. */
  listFeatures(): readonly Feature[] {
    return FEATURES;
  }

  /**
   * The column type this server stores a kind of value best in (`"uuid"` → `uuid` on PostgreSQL, `char(36)` on
   * MySQL; `"json"` → `jsonb`, …). An unknown category is a ParameterError.
   */
  getOptimalType(category: TypeCategory | (string & {})): Promise<string> {
    return optimalType(this.adapter.dialect, this.adapter.capabilities, category, () => this.getVersion());
  }

  /** Columns of a table from the catalog, in table order. Cached per pool. */
  getColumns(table: string): Promise<ColumnInfo[]> {
    return this.#cached(this.cache.columns, table, (i) => i.getColumns(this.adapter, this.conn(), table));
  }

  /**
   * The column sets of the table's primary key and unique constraints; empty where the adapter cannot tell. Cached
   * per pool; `fresh` reads the catalog now (a check that must see the latest DDL).
   */
  async getUniqueKeys(table: string, options?: { fresh?: boolean }): Promise<string[][]> {
    return (await this.getUniqueIndexes(table, options)).map((k) => k.columns.slice());
  }

  /** getUniqueKeys with how each key compares NULLs (`NULLS NOT DISTINCT` on PostgreSQL 15+). Cached alike. */
  getUniqueIndexes(table: string, options?: { fresh?: boolean }): Promise<UniqueIndex[]> {
    if (options?.fresh) this.cache.uniqueKeys.delete(table);
    return this.#cached(this.cache.uniqueKeys, table, async (i) => {
      if (i.getUniqueIndexes) return i.getUniqueIndexes(this.adapter, this.conn(), table);
      const keys = i.getUniqueKeys ? await i.getUniqueKeys(this.adapter, this.conn(), table) : [];
      return keys.map((columns) => ({ columns, nullsNotDistinct: false }));
    });
  }

  /** Forgets cached catalog facts for `table` (all tables when omitted), e.g. after DDL run outside sqlspec. */
  invalidate(table?: string): void {
    this.cache.invalidate(table);
  }

  /**
   * @internal The catalog's generation, after checking the schema stamp: a plan built from facts read from now on is
   * remembered with it (keepPlan) and used only while it is current.
   */
  generation(): number {
    this.#checkStamp();
    return this.cache.generation;
  }

  /**
   * @internal The schema stamp (the latest when `exact`, else a recent reading), cached facts dropped when it moved;
   * undefined where the adapter has none.
   */
  stamp(exact: boolean): number | undefined {
    return this.#checkStamp(exact);
  }

  /**
   * @internal The plan kept under `key` with the generation it was built at, unless that is known to be stale. The
   * schema stamp is not read here: the caller asks isCurrent(generation) where the answer holds (inside its
   * transaction, where no other connection can change the schema before it commits).
   */
  keptPlan(key: string): { plan: unknown; generation: number } | undefined {
    const kept = this.cache.plans.get(key);
    return kept !== undefined && kept.generation === this.cache.generation ? kept : undefined;
  }

  /** @internal Whether facts read at `generation` are still current, by the latest schema stamp (not a recent reading). */
  isCurrent(generation: number): boolean {
    this.#checkStamp(true);
    return this.cache.generation === generation;
  }

  /** @internal Keeps a plan built from facts read at `generation` (nothing is kept when they changed since). */
  keepPlan(key: string, plan: unknown, generation: number): void {
    if (generation !== this.cache.generation) return;
    // Plans are per table, column list and options: an application has a handful. Past that, start over.
    if (this.cache.plans.size >= MAX_PLANS) this.cache.plans.clear();
    this.cache.plans.set(key, { generation, plan });
  }

  /** DDL elsewhere (another connection, another process) moved the schema: nothing cached describes it any more. */
  #checkStamp(exact = false): number | undefined {
    const introspector = this.adapter.introspector;
    if (introspector?.schemaStamp === undefined) return undefined;
    const stamp = introspector.schemaStamp(this.conn(), exact);
    if (stamp !== this.cache.stamp) {
      this.cache.invalidate();
      this.cache.stamp = stamp;
    }
    return stamp;
  }

  #cached<T>(
    map: Map<string, Promise<T[]>>,
    table: string,
    load: (i: NonNullable<Adapter<Conn>["introspector"]>) => Promise<T[]>,
  ): Promise<T[]> {
    const introspector = this.adapter.introspector;
    if (!introspector) return Promise.resolve([]);
    this.#checkStamp();
    let hit = map.get(table);
    if (hit === undefined) {
      hit = load(introspector).then(
        // An unknown table is not cached, so creating it later is seen.
        (rows) => {
          if (rows.length === 0) map.delete(table);
          return rows;
        },
        (err) => {
          map.delete(table);
          throw err;
        },
      );
      map.set(table, hit);
    }
    return hit;
  }
}
