import type { DialectProfile, Tables } from "./types.js";

export const postgresProfile: DialectProfile = {
  createTables: (t: Tables) => [
    `CREATE TABLE ${t.items} (id int PRIMARY KEY, name text NOT NULL, qty int CHECK (qty >= 0))`,
    `CREATE TABLE ${t.parent} (id int PRIMARY KEY)`,
    `CREATE TABLE ${t.child} (id int PRIMARY KEY, parent_id int REFERENCES ${t.parent}(id))`,
    `CREATE TABLE ${t.types} (id serial PRIMARY KEY, big int8, num numeric, ts timestamptz, b bytea, u uuid,
       j jsonb, jt json, flag boolean, ints int[], texts text[])`,
    `CREATE TABLE ${t.products} (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), stock int DEFAULT 0)`,
  ],
  dropTables: (t: Tables) => [`DROP TABLE IF EXISTS ${t.child}, ${t.parent}, ${t.items}, ${t.types}, ${t.products}`],
  exactDecimal: true,
  series: (n) => `SELECT g FROM generate_series(1, ${n}::int) g`,
  routineScript: (t, p) => ({
    script: `
      CREATE OR REPLACE FUNCTION ${p}_f() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'a;b'; END; $$;
      INSERT INTO ${t.items} (id, name, qty) VALUES (22, $q$dollar;quoted$q$, 0);`,
    check: `SELECT ${p}_f() || (SELECT name FROM ${t.items} WHERE id = 22)`,
    expect: "a;bdollar;quoted",
    cleanup: `DROP FUNCTION ${p}_f(); DELETE FROM ${t.items} WHERE id = 22`,
  }),
  productColumns: [
    ["id", "integer"],
    ["name", "text"],
    ["price", "numeric(10,2)"],
    ["stock", "integer"],
  ],
  slowStatement: "SELECT pg_sleep(3)",
  sqlState: true,
  arrays: true,
  jsonField: (c, k) => `${c}->>'${k}'`,
  itemsPrimaryKey: (t) => `${t.items}_pkey`,
};
