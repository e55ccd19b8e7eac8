import type { DialectProfile, Tables } from "./types.js";

export const sqliteProfile: DialectProfile = {
  createTables: (t: Tables) => [
    `CREATE TABLE ${t.items} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER CHECK (qty >= 0))`,
    `CREATE TABLE ${t.parent} (id INTEGER PRIMARY KEY)`,
    `CREATE TABLE ${t.child} (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES ${t.parent}(id))`,
    `CREATE TABLE ${t.types} (id INTEGER PRIMARY KEY, big INTEGER, num TEXT, ts TIMESTAMP, b BLOB, u TEXT,
       j JSON, jt JSON, flag BOOLEAN)`,
    `CREATE TABLE ${t.products} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(10,2), stock INTEGER DEFAULT 0)`,
  ],
  dropTables: (t: Tables) =>
    [t.child, t.parent, t.items, t.types, t.products].map((name) => `DROP TABLE IF EXISTS ${name}`),
  exactDecimal: false,
  series: (n) => `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${n}) SELECT g FROM s`,
  routineScript: (t, p) => ({
    script: `
      CREATE TRIGGER ${p}_trg AFTER INSERT ON ${t.parent} BEGIN
        INSERT INTO ${t.items} (id, name, qty) VALUES (NEW.id + 1000, 'from;trigger', 0);
        UPDATE ${t.items} SET name = name || ';' WHERE id = NEW.id + 1000;
      END;
      INSERT INTO ${t.parent} (id) VALUES (22);`,
    check: `SELECT name FROM ${t.items} WHERE id = 1022`,
    expect: "from;trigger;",
    cleanup: `DROP TRIGGER ${p}_trg; DELETE FROM ${t.items} WHERE id = 1022; DELETE FROM ${t.parent} WHERE id = 22`,
  }),
  productColumns: [
    ["id", "INTEGER"],
    ["name", "TEXT"],
    ["price", "NUMERIC(10,2)"],
    ["stock", "INTEGER"],
  ],
  slowStatement:
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000000) SELECT count(*) FROM c",
  sqlState: false,
  arrays: false,
  // `->` keeps a JSON number's digits (`->>` would read 2^64-scale integers back as REAL).
  jsonField: (c, k) => `${c}->'${k}'`,
};
