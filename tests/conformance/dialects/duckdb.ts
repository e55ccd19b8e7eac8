import type { DialectProfile, Tables } from "./types.js";

export const duckdbProfile: DialectProfile = {
  createTables: (t: Tables) => [
    `CREATE TABLE ${t.items} (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, qty INTEGER CHECK (qty >= 0))`,
    `CREATE TABLE ${t.parent} (id INTEGER PRIMARY KEY)`,
    `CREATE TABLE ${t.child} (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES ${t.parent}(id))`,
    `CREATE TABLE ${t.types} (id INTEGER PRIMARY KEY, big BIGINT, num DECIMAL(38,9), ts TIMESTAMPTZ, b BLOB, u UUID,
       j JSON, jt JSON, flag BOOLEAN)`,
    `CREATE TABLE ${t.products} (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, price DECIMAL(10,2), stock INTEGER DEFAULT 0)`,
  ],
  dropTables: (t: Tables) =>
    [t.child, t.parent, t.items, t.types, t.products].map((name) => `DROP TABLE IF EXISTS ${name}`),
  exactDecimal: true,
  series: (n) => `SELECT g::INTEGER AS g FROM generate_series(1, CAST(${n} AS BIGINT)) AS s(g)`,
  routineScript: (t, p) => ({
    script: `
      CREATE OR REPLACE MACRO ${p}_f() AS 'a;b';
      INSERT INTO ${t.items} (id, name, qty) VALUES (22, 'semi;colon', 0);`,
    check: `SELECT ${p}_f() || (SELECT name FROM ${t.items} WHERE id = 22)`,
    expect: "a;bsemi;colon",
    cleanup: `DROP MACRO ${p}_f; DELETE FROM ${t.items} WHERE id = 22`,
  }),
  productColumns: [
    ["id", "INTEGER"],
    ["name", "VARCHAR"],
    ["price", "DECIMAL(10,2)"],
    ["stock", "INTEGER"],
  ],
  slowStatement: "SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b",
  sqlState: false,
  arrays: false,
  jsonField: (c, k) => `${c}->>'${k}'`,
};
