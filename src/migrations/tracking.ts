/**
 * The tracking table (`sqlspec_migrations` unless `migrationConfig.versionTableName` says otherwise): one row per
 * applied migration. Every statement goes through the session, so it works on any adapter; only the timestamp
 * column's type and default differ per dialect.
 */
import { parseName, quotePath } from "../core/identifiers.js";
import type { Dialect, Row } from "../core/types.js";
import type { Session } from "../driver/session.js";

/** One row of the tracking table. */
export interface AppliedMigration {
  /** As the file name wrote it, e.g. `0001`. */
  readonly version: string;
  /** The file name's description. */
  readonly description: string;
  /** `sql`, `ts` or `js` for a migration that ran, `stamp` for one `stamp()` marked as applied without running it. */
  readonly type: string;
  /** 1, 2, 3, … in the order rows were written. */
  readonly executionSequence: number;
  /** sha256 (hex) of the file when it ran (see {@link MigrationFile.checksum}). */
  readonly checksum: string;
  /** When it was applied. */
  readonly appliedAt: Date;
  /** Milliseconds it took to run. */
  readonly executionTimeMs: number;
  /** `user@host` of the process that applied it. */
  readonly appliedBy: string;
}

const APPLIED_AT: Partial<Record<Dialect, string>> = {
  postgres: "TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP",
  duckdb: "TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP",
  mysql: "TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)",
  sqlite: "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
};

/** The schema (MySQL: database) an unqualified name resolves to, where a statement can change it. */
const CURRENT_SCHEMA: Partial<Record<Dialect, string>> = {
  postgres: "SELECT current_schema()",
  duckdb: "SELECT current_schema()",
  mysql: "SELECT DATABASE()",
};

/** The tracking table's statements for one session's dialect. */
export class TrackingTable {
  /** The qualified name, quoted (`"public"."sqlspec_migrations"`): what the introspector is asked about. */
  readonly name: string;
  readonly #q: string;
  readonly #dialect: Dialect;

  constructor(parts: readonly string[], dialect: Dialect) {
    this.name = quotePath(parts, "postgres");
    this.#dialect = dialect;
    this.#q = quotePath(parts, dialect);
  }

  /**
   * The table `name` names when a run starts, pinned to the session's current schema: a migration may run
   * `SET search_path` or `USE`, and its tracking row must still go to the table the run read.
   */
  static async open(session: Session<unknown>, name: string): Promise<TrackingTable> {
    const parts = parseName(name, "migrationConfig.versionTableName");
    const sql = CURRENT_SCHEMA[session.dialect];
    if (parts.length === 1 && sql !== undefined) {
      const schema = await session.selectValueOrNull(sql);
      // NULL: no schema of the search path exists; the CREATE TABLE then fails with the engine's own message.
      if (typeof schema === "string" && schema !== "") return new TrackingTable([schema, ...parts], session.dialect);
    }
    return new TrackingTable(parts, session.dialect);
  }

  /** Creates the table when it does not exist (run under the migration lock: concurrent CREATEs can collide). */
  async ensure(session: Session<unknown>): Promise<void> {
    const appliedAt = APPLIED_AT[this.#dialect] ?? "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP";
    await session.executeScript(
      `CREATE TABLE IF NOT EXISTS ${this.#q} (
  version VARCHAR(32) NOT NULL PRIMARY KEY,
  description VARCHAR(255) NOT NULL,
  type VARCHAR(16) NOT NULL,
  execution_sequence INTEGER NOT NULL,
  checksum VARCHAR(64) NOT NULL,
  applied_at ${appliedAt},
  execution_time_ms INTEGER NOT NULL,
  applied_by VARCHAR(255) NOT NULL
)`,
    );
  }

  /** Whether the table exists, without creating it (read-only commands and dry runs change nothing). */
  async exists(session: Session<unknown>): Promise<boolean> {
    const introspector = session.adapter.introspector;
    if (introspector) return (await introspector.getColumns(session.adapter, session.conn, this.name)).length > 0;
    try {
      await session.execute(`SELECT 1 FROM ${this.#q} WHERE 1 = 0`);
      return true;
    } catch {
      return false;
    }
  }

  /** Every row in the order they were written. */
  async rows(session: Session<unknown>): Promise<AppliedMigration[]> {
    const rows = await session.select(
      `SELECT version, description, type, execution_sequence, checksum, applied_at, execution_time_ms, applied_by
       FROM ${this.#q} ORDER BY execution_sequence`,
    );
    return rows.map(toApplied);
  }

  /** Whether `version` has a row (inside a migration's transaction: another runner may have just written it). */
  async has(session: Session<unknown>, version: string): Promise<boolean> {
    const v = await session.selectValueOrNull(`SELECT 1 FROM ${this.#q} WHERE version = :version`, { version });
    return v !== null;
  }

  async insert(
    session: Session<unknown>,
    row: Omit<AppliedMigration, "executionSequence" | "appliedAt">,
  ): Promise<void> {
    const max = await session.selectValueOrNull(`SELECT MAX(execution_sequence) FROM ${this.#q}`);
    await session.execute(
      `INSERT INTO ${this.#q}
         (version, description, type, execution_sequence, checksum, execution_time_ms, applied_by)
       VALUES (:version, :description, :type, :seq, :checksum, :ms, :by)`,
      {
        version: row.version,
        description: row.description.slice(0, 255),
        type: row.type,
        seq: Number(max ?? 0) + 1,
        checksum: row.checksum,
        ms: Math.round(row.executionTimeMs),
        by: row.appliedBy.slice(0, 255),
      },
    );
  }

  async delete(session: Session<unknown>, version: string): Promise<void> {
    await session.execute(`DELETE FROM ${this.#q} WHERE version = :version`, { version });
  }

  async updateChecksum(session: Session<unknown>, version: string, checksum: string): Promise<void> {
    await session.execute(`UPDATE ${this.#q} SET checksum = :checksum WHERE version = :version`, {
      checksum,
      version,
    });
  }
}

function toApplied(r: Row): AppliedMigration {
  const at = r.applied_at;
  return {
    version: String(r.version),
    description: String(r.description),
    type: String(r.type),
    executionSequence: Number(r.execution_sequence),
    checksum: String(r.checksum),
    appliedAt: at instanceof Date ? at : parseTimestamp(String(at)),
    executionTimeMs: Number(r.execution_time_ms),
    appliedBy: String(r.applied_by),
  };
}

/** A timestamp read as text (`driverFeatures.timestamps: "string"`, SQLite): `2026-11-30 10:15:00.123456+00`. */
function parseTimestamp(text: string): Date {
  const iso = text
    .trim()
    .replace(" ", "T")
    .replace(/([+-]\d\d)$/, "$1:00");
  return new Date(/[zZ]|[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso}Z`);
}
