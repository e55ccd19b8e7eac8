import type { DialectProfile, Tables } from "./types.js";

/** MySQL 8 / MariaDB 10.6+ (the suite runs on MariaDB 10.11 here; column types are printed as MariaDB prints them). */
export const mysqlProfile: DialectProfile = {
  createTables: (t: Tables) => [
    `CREATE TABLE ${t.items} (id int PRIMARY KEY, name varchar(100) NOT NULL, qty int CHECK (qty >= 0)) ENGINE=InnoDB`,
    `CREATE TABLE ${t.parent} (id int PRIMARY KEY) ENGINE=InnoDB`,
    `CREATE TABLE ${t.child} (id int PRIMARY KEY, parent_id int REFERENCES ${t.parent}(id)) ENGINE=InnoDB`,
    `CREATE TABLE ${t.types} (id int PRIMARY KEY, big bigint, num decimal(40,9), ts datetime(3), b blob, u char(36),
       j json, jt json, flag tinyint(1)) ENGINE=InnoDB`,
    `CREATE TABLE ${t.products} (id int PRIMARY KEY, name varchar(100) NOT NULL, price decimal(10,2), stock int DEFAULT 0)
       ENGINE=InnoDB`,
  ],
  dropTables: (t: Tables) => [`DROP TABLE IF EXISTS ${t.child}, ${t.parent}, ${t.items}, ${t.types}, ${t.products}`],
  exactDecimal: true,
  // Portable (no MariaDB sequence engine, no recursive CTE depth limit): six digit tables, 1 … 1,000,000.
  series: (n) =>
    "SELECT g FROM (SELECT 1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 100000 * h.d AS g FROM " +
    ["a", "b", "c", "e", "f", "h"]
      .map(
        (x) =>
          `(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) ${x}`,
      )
      .join(", ") +
    `) s WHERE g <= ${n}`,
  routineScript: (t, p) => ({
    script: `
      CREATE TRIGGER ${p}_trg AFTER INSERT ON ${t.parent} FOR EACH ROW BEGIN
        INSERT INTO ${t.items} (id, name, qty) VALUES (NEW.id + 1000, 'from;trigger', 0);
        UPDATE ${t.items} SET name = CONCAT(name, ';') WHERE id = NEW.id + 1000;
      END;
      INSERT INTO ${t.parent} (id) VALUES (22);`,
    check: `SELECT name FROM ${t.items} WHERE id = 1022`,
    expect: "from;trigger;",
    cleanup: `DROP TRIGGER ${p}_trg; DELETE FROM ${t.items} WHERE id = 1022; DELETE FROM ${t.parent} WHERE id = 22`,
  }),
  productColumns: [
    ["id", "int(11)"],
    ["name", "varchar(100)"],
    ["price", "decimal(10,2)"],
    ["stock", "int(11)"],
  ],
  slowStatement: "SELECT SLEEP(3)",
  // MySQL reports SQLSTATE 23000 for every integrity error; classes come from error numbers.
  sqlState: false,
  arrays: false,
  jsonField: (c, k) => `JSON_UNQUOTE(JSON_EXTRACT(${c}, '$.${k}'))`,
  itemsPrimaryKey: () => "PRIMARY",
  returning: false,
  textType: "varchar(20)",
  // ON DUPLICATE KEY UPDATE counts 1 per inserted row and 2 per updated row (0 when nothing changed).
  upsertCount: (inserted, updated) => inserted + 2 * updated,
};
