/**
 * Type tests (never run): where the dialect is written out when a builder is made, calls it cannot render do not
 * compile, anywhere along the chain; everything it can render still does, and the narrowed builders still execute.
 * Checked like every fixture here (see tests/types/types.test.ts).
 */
import { type DialectName, type Session, sql } from "sqlspec";

const rows = [{ id: 1, name: "Widget" }];

export async function builders(session: Session, runtimeDialect: DialectName): Promise<void> {
  // SQLite / DuckDB: INSERT … ON CONFLICT, in the MERGE shape or the insert shape
  const lite = sql
    .upsert("t", { dialect: "sqlite" })
    .using(rows, "src")
    .on("t.id = src.id")
    .whenMatchedThenUpdate(["name"])
    .whenNotMatchedThenInsert(["id", "name"])
    .returning("id");
  await session.execute(lite);
  sql.upsert("t", { dialect: "duckdb" }).values(rows).onConflict("id").doUpdate(["name"]).returning("id");
  // @ts-expect-error TS2551 no WHEN MATCHED THEN DELETE in INSERT … ON CONFLICT
  lite.whenMatchedThenDelete();
  // @ts-expect-error TS2339 nor WHEN NOT MATCHED BY SOURCE
  sql.upsert("t", { dialect: "sqlite3" }).using(rows).whenNotMatchedBySourceThenDelete();
  // @ts-expect-error TS2339 nor WHEN NOT MATCHED BY SOURCE … UPDATE
  sql.upsert("t", { dialect: "duckdb" }).using(rows).whenNotMatchedBySourceThenUpdate({ active: false });
  // @ts-expect-error TS2339 ON DUPLICATE KEY UPDATE is MySQL's
  sql.upsert("t", { dialect: "sqlite" }).values(rows).onDuplicateKeyUpdate({ name: "VALUES(name)" });
  // @ts-expect-error TS2551 still absent after the ON CONFLICT step
  sql.upsert("t", { dialect: "sqlite" }).values(rows).onConflict("id").doNothing().whenMatchedThenDelete();

  // MySQL / MariaDB: ON DUPLICATE KEY UPDATE, no RETURNING
  const my = sql.upsert("t", { dialect: "mariadb" }).values(rows).onDuplicateKeyUpdate({ name: "VALUES(name)" });
  await session.execute(my);
  sql.upsert("t", { dialect: "mysql" }).using(rows).on("t.id = src.id").whenMatchedThenUpdate(["name"]);
  // @ts-expect-error TS2339 MySQL has no RETURNING
  my.returning("id");
  // @ts-expect-error TS2551 nor WHEN MATCHED THEN DELETE
  sql.upsert("t", { dialect: "mysql" }).using(rows).whenMatchedThenDelete();

  // PostgreSQL: the whole MERGE
  const pg = sql
    .upsert("t", { dialect: "postgres" })
    .using(rows, "src")
    .on("t.id = src.id")
    .whenMatchedThenDelete({ where: "src.name IS NULL" })
    .whenNotMatchedBySourceThenDelete()
    .returning("t.id");
  await session.execute(pg);
  sql.upsert("t").using(rows).on("t.id = src.id").whenNotMatchedThenInsert(["id", "name"]);

  // Oracle and BigQuery MERGE
  sql.merge({ dialect: "oracle" }).into("t", "t").using(rows, "src").on("t.id = src.id").whenMatchedThenDelete();
  // @ts-expect-error TS2339 Oracle has no WHEN NOT MATCHED BY SOURCE
  sql.merge({ dialect: "oracle" }).into("t", "t").using(rows, "src").whenNotMatchedBySourceThenDelete();
  // @ts-expect-error TS2339 nor RETURNING
  sql.upsert("t", { dialect: "oracle" }).using(rows).returning("t.id");
  sql.merge({ dialect: "bigquery" }).into("t", "t").using(rows, "src").whenNotMatchedBySourceThenDelete();
  // @ts-expect-error TS2339 BigQuery has no RETURNING
  sql.merge({ dialect: "bigquery" }).into("t", "t").returning("t.id");

  // SQLite, DuckDB and MySQL have no MERGE at all
  // @ts-expect-error TS2769 use sql.upsert(table, { dialect: "sqlite" })
  sql.merge({ dialect: "sqlite" });
  // @ts-expect-error TS2769 use sql.upsert(table, { dialect: "mysql" })
  sql.merge({ dialect: "mariadb" });

  // a dialect known only at run time keeps the whole surface (the build raises for what it cannot render)
  const any = sql.upsert("t", { dialect: runtimeDialect });
  if ("whenMatchedThenDelete" in any) void any;
}
