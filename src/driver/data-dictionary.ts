import type { Dialect } from "../core/types.js";
import type { Adapter, ColumnInfo, ServerVersion } from "./adapter.js";

/** Server facts cached per pool (one per config): the version, and catalog columns/unique keys per table. */
export class DataDictionaryCache {
  version: Promise<ServerVersion> | undefined;
  readonly columns = new Map<string, Promise<ColumnInfo[]>>();
  readonly uniqueKeys = new Map<string, Promise<string[][]>>();

  clear(): void {
    this.version = undefined;
    this.columns.clear();
    this.uniqueKeys.clear();
  }

  /** Drop cached catalog facts for a table (after DDL, for instance). */
  invalidate(table?: string): void {
    if (table === undefined) {
      this.columns.clear();
      this.uniqueKeys.clear();
    } else {
      this.columns.delete(table);
      this.uniqueKeys.delete(table);
    }
  }
}

/** A feature `dataDictionary.supports()` can check against the connected server's version. */
export type Feature =
  | "merge"
  | "merge_returning"
  | "merge_not_matched_by_source"
  | "returning"
  | "on_conflict"
  | "copy"
  | "jsonb"
  | "savepoints"
  | "transactional_ddl";

/** Minimum server_version_num for PostgreSQL features; `0` = always. */
const POSTGRES_FEATURES: Record<Feature, number> = {
  merge: 150000,
  merge_returning: 170000,
  merge_not_matched_by_source: 170000,
  returning: 0,
  on_conflict: 90500,
  copy: 0,
  jsonb: 90400,
  savepoints: 0,
  transactional_ddl: 0,
};

/** Minimum DuckDB version (major·10000 + minor·100 + patch) per feature: MERGE INTO, BY SOURCE and RETURNING in 1.4. */
const DUCKDB_FEATURES: Partial<Record<Feature, number>> = {
  merge: 10400,
  merge_returning: 10400,
  merge_not_matched_by_source: 10400,
  returning: 0,
  on_conflict: 0,
  transactional_ddl: 0,
  copy: 0,
};

const OTHER_FEATURES: Partial<Record<Dialect, readonly Feature[]>> = {
  sqlite: ["returning", "on_conflict", "savepoints", "transactional_ddl"],
  mysql: ["savepoints"],
};

/** The session-facing data dictionary: version, feature checks and catalog columns, cached per pool. */
export class DataDictionary<Conn = unknown> {
  /** @internal Sessions make it (`session.dataDictionary`). */
  constructor(
    private readonly adapter: Adapter<Conn>,
    private readonly conn: () => Conn,
    private readonly cache: DataDictionaryCache,
  ) {}

  /** The server's version (queried once per pool, then cached); `{ versionNum: 0, version: "unknown" }` without an introspector. */
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
   * Whether the connected server has `feature` (e.g. `"merge"`: PostgreSQL 15+, DuckDB 1.4+). False for an unknown
   * feature name.
   */
  async supports(feature: Feature | string): Promise<boolean> {
    if (this.adapter.dialect === "postgres") {
      const min = POSTGRES_FEATURES[feature as Feature];
      if (min === undefined) return false;
      return min === 0 || (await this.getVersion()).versionNum >= min;
    }
    if (this.adapter.dialect === "duckdb") {
      const min = DUCKDB_FEATURES[feature as Feature];
      return min !== undefined && (min === 0 || (await this.getVersion()).versionNum >= min);
    }
    return OTHER_FEATURES[this.adapter.dialect]?.includes(feature as Feature) ?? false;
  }

  /** Columns of a table from the catalog, in table order. Cached per pool. */
  getColumns(table: string): Promise<ColumnInfo[]> {
    return this.#cached(this.cache.columns, table, (i) => i.getColumns(this.adapter, this.conn(), table));
  }

  /** The column sets of the table's primary key and unique constraints; empty where the adapter cannot tell. Cached per pool. */
  getUniqueKeys(table: string): Promise<string[][]> {
    return this.#cached(this.cache.uniqueKeys, table, (i) =>
      i.getUniqueKeys ? i.getUniqueKeys(this.adapter, this.conn(), table) : Promise.resolve([]),
    );
  }

  /** Forgets cached catalog facts for `table` (all tables when omitted), e.g. after DDL run outside sqlspec. */
  invalidate(table?: string): void {
    this.cache.invalidate(table);
  }

  #cached<T>(
    map: Map<string, Promise<T[]>>,
    table: string,
    load: (i: NonNullable<Adapter<Conn>["introspector"]>) => Promise<T[]>,
  ): Promise<T[]> {
    const introspector = this.adapter.introspector;
    if (!introspector) return Promise.resolve([]);
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
