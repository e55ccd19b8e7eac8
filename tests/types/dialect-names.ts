/**
 * Type tests (checked by `npm run typecheck`, never run): every public dialect option takes the dialect names and
 * their aliases, and a misspelt dialect does not compile.
 */
import { type DialectName, normalizeDialect, sql } from "sqlspec";

const names: DialectName[] = ["postgres", "postgresql", "pg", "pglite", "sqlite", "sqlite3", "mysql", "mariadb"];
names.push("duckdb", "oracle", "bigquery");

sql
  .upsert("t", { dialect: "pglite" })
  .using([{ id: 1 }], "src")
  .on("t.id = src.id");
sql.upsert("t", { dialect: "mariadb" }).values({ id: 1 });
sql.merge({ dialect: "postgresql" });
sql.select("id").from("t").build("sqlite3");
sql.select("id").from("t").toSQL("mariadb");
sql.select("id").from("t").withDialect("pg");

// @ts-expect-error TS2769 a misspelt dialect
sql.upsert("t", { dialect: "sqllite" });
// @ts-expect-error TS2769 a misspelt dialect
sql.merge({ dialect: "postgress" });
// @ts-expect-error TS2345 a misspelt dialect
sql.select("id").from("t").build("sqllite");
// @ts-expect-error TS2345 a misspelt dialect
sql.select("id").from("t").toSQL("mssql");
// @ts-expect-error TS2345 a misspelt dialect
sql.select("id").from("t").withDialect("oracel");

// Parsing a name read at run time (a config file, an env var) still takes any string and raises on unknown ones.
normalizeDialect(String(process.env.DIALECT ?? "postgres"));
