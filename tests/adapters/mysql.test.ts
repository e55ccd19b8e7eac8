/**
 * The MySQL / MariaDB adapter against the real server (MariaDB 10.11 here; `.ci/run` starts it). Tables are
 * prefixed `myad_` and live in the database of SQLSPEC_TEST_MYSQL_URL.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type MysqlAdapter,
  MysqlConfig,
  type MysqlConfigOptions,
  type MysqlConnection,
} from "../../src/adapters/mysql/index.js";
import {
  CheckViolationError,
  DatabaseConnectionError,
  DataError,
  DeadlockError,
  DialectNotSupportedError,
  ForeignKeyViolationError,
  NotNullViolationError,
  OperationalError,
  OperationCancelledError,
  ParameterError,
  PermissionDeniedError,
  PoolTimeoutError,
  QueryTimeoutError,
  type Session,
  SQLParsingError,
  SQLSpecError,
  sql,
  TransactionError,
  UniqueViolationError,
  UnsupportedOperationError,
} from "../../src/index.js";
import { runConformance } from "../conformance/suite.js";
import { MYSQL_URL } from "../support/servers.js";

// MySQL has no boolean type: the suite's boolean column is TINYINT(1), read as boolean when asked.
runConformance(
  "mysql",
  () =>
    new MysqlConfig({
      poolConfig: { connectionString: MYSQL_URL, maxSize: 4 },
      driverFeatures: { tinyInt1AsBoolean: true },
    }),
);

const opened: MysqlConfig[] = [];
function config(o: MysqlConfigOptions = {}): MysqlConfig {
  const c = new MysqlConfig({ ...o, poolConfig: { connectionString: MYSQL_URL, maxSize: 4, ...o.poolConfig } });
  opened.push(c);
  return c;
}
const db = config();
const run = <R>(fn: (s: Session<MysqlConnection>) => Promise<R>): Promise<R> => db.withSession(fn);

afterAll(async () => {
  await run((s) => s.executeScript("DROP TABLE IF EXISTS myad_child, myad_parent, myad_items, myad_types, myad_kv"));
  await Promise.all(opened.map((c) => c.close().catch(() => {})));
});

beforeAll(async () => {
  await run((s) =>
    s.executeScript(`
      DROP TABLE IF EXISTS myad_child, myad_parent, myad_items, myad_types, myad_kv;
      CREATE TABLE myad_items (id int PRIMARY KEY, name varchar(100) NOT NULL, qty int CHECK (qty >= 0),
                               UNIQUE KEY myad_items_name (name)) ENGINE=InnoDB;
      CREATE TABLE myad_parent (id int PRIMARY KEY) ENGINE=InnoDB;
      CREATE TABLE myad_child (id int PRIMARY KEY, parent_id int,
                               CONSTRAINT myad_fk FOREIGN KEY (parent_id) REFERENCES myad_parent (id)) ENGINE=InnoDB;
      CREATE TABLE myad_types (id int AUTO_INCREMENT PRIMARY KEY, big bigint, ubig bigint unsigned, num decimal(30,10),
                               dt datetime(3), ts timestamp(3) NULL, d date, j json, flag tinyint(1), small tinyint,
                               bl blob, vb varbinary(20), t text) ENGINE=InnoDB;
      CREATE TABLE myad_kv (k varchar(20) PRIMARY KEY, v text) ENGINE=InnoDB;
    `),
  );
});

describe("mysql: statements and results", () => {
  test("rowsAffected, lastInsertId, columnNames on an empty result, operation types", async () => {
    await run(async (s) => {
      const ins = await s.execute("INSERT INTO myad_items (id, name, qty) VALUES (?, ?, ?), (?, ?, ?)", [
        1,
        "a",
        1,
        2,
        "b",
        2,
      ]);
      expect(ins.rowsAffected).toBe(2);
      expect(ins.operationType).toBe("INSERT");
      const auto = await s.execute("INSERT INTO myad_types (small) VALUES (?)", [1]);
      expect(Number(auto.lastInsertId)).toBeGreaterThan(0);
      const upd = await s.execute("UPDATE myad_items SET qty = qty + 1 WHERE id IN (1, 2)");
      expect(upd.rowsAffected).toBe(2);
      const empty = await s.execute("SELECT id, name AS label FROM myad_items WHERE id = ?", [999]);
      expect(empty.data).toEqual([]);
      expect(empty.columnNames).toEqual(["id", "label"]);
      expect(await s.selectValue("SELECT count(*) FROM myad_items")).toBe(2);
      const named = await s.selectOne("SELECT name FROM myad_items WHERE id = :id", { id: 2 });
      expect(named).toEqual({ name: "b" });
      const [rows, total] = await s.selectWithTotal("SELECT id FROM myad_items ORDER BY id LIMIT 1");
      expect(rows).toEqual([{ id: 1 }]);
      expect(total).toBe(2);
      await s.execute("DELETE FROM myad_types");
    });
  });

  test("ON DUPLICATE KEY UPDATE counts 1 per insert, 2 per update, 0 per unchanged row; the split is in metadata", async () => {
    await run(async (s) => {
      await s.execute("DELETE FROM myad_kv");
      await s.execute("INSERT INTO myad_kv (k, v) VALUES ('a', 'x'), ('b', 'y')");
      const r = await s.execute(
        "INSERT INTO myad_kv (k, v) VALUES (?, ?), (?, ?), (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)",
        ["a", "x", "b", "changed", "c", "new"],
      );
      // a unchanged (0) + b updated (2) + c inserted (1)
      expect(r.rowsAffected).toBe(3);
      expect(r.metadata).toMatchObject({ inserted: 1, updated: 1, unchanged: 1 });
      // An UPDATE counts the rows it changed; matched/changed are in metadata.
      const u = await s.execute("UPDATE myad_kv SET v = ? WHERE k IN ('a', 'b')", ["x"]);
      expect(u.rowsAffected).toBe(1);
      expect(u.metadata).toMatchObject({ matched: 2, changed: 1 });
    });
  });

  test("every statement with values is a server-side prepared statement, cached in a bounded per-connection LRU", async () => {
    const small = config({ poolConfig: { maxSize: 1 }, statementConfig: { statementCacheSize: 2 } });
    await small.withSession(async (s) => {
      const status = async (name: string): Promise<number> =>
        Number((await s.select<{ Value: string }>(`SHOW SESSION STATUS LIKE '${name}'`))[0]?.Value);
      const prepared0 = await status("Com_stmt_prepare");
      const closed0 = await status("Com_stmt_close");
      for (let i = 0; i < 5; i++) expect(await s.selectValue(`SELECT ? + ${i} AS v`, [1])).toBe(1 + i);
      // A repeated statement is not prepared again while it is cached.
      for (let i = 0; i < 3; i++) await s.selectValue("SELECT ? + 4 AS v", [1]);
      expect((await status("Com_stmt_prepare")) - prepared0).toBe(5);
      // Five distinct statements through a cache of two: three were closed on the server.
      expect((await status("Com_stmt_close")) - closed0).toBe(3);
      expect(await status("Com_stmt_execute")).toBeGreaterThanOrEqual(8);
    });
  });

  test("values that have no SQL meaning raise ParameterError before any I/O", async () => {
    await run(async (s) => {
      await expect(s.execute("SELECT ?", [Symbol("x")])).rejects.toBeInstanceOf(ParameterError);
      await expect(s.execute("SELECT ?", [() => 1])).rejects.toBeInstanceOf(ParameterError);
      await expect(s.execute("SELECT ?", [new Date(Number.NaN)])).rejects.toBeInstanceOf(ParameterError);
      await expect(s.execute("SELECT ?", [Number.NaN])).rejects.toBeInstanceOf(ParameterError);
      await expect(s.execute("SELECT ?, ?", [1])).rejects.toBeInstanceOf(ParameterError);
      expect(await s.selectValue("SELECT 1")).toBe(1);
    });
  });

  test("a stacked statement without values is refused (before I/O; multi-statements are off on the server too)", async () => {
    await run(async (s) => {
      await expect(s.execute("SELECT 1; DROP TABLE myad_kv")).rejects.toBeInstanceOf(UnsupportedOperationError);
      // The server refuses it as well, should it ever be sent (the adapter's own query path).
      const raw = await s.adapter.query(s.conn, "SELECT 1; DROP TABLE myad_kv", [], {}).catch((e) => e);
      expect(s.adapter.mapError(raw, "")).toBeInstanceOf(SQLParsingError);
      expect(await s.selectValue("SELECT count(*) FROM information_schema.tables WHERE table_name = 'myad_kv'")).toBe(
        1,
      );
    });
  });
});

describe("mysql: values", () => {
  test("BIGINT follows driverFeatures.int8; a value beyond 2^53 in number mode raises DataError", async () => {
    const big = "9007199254740993";
    await run(async (s) => {
      await s.execute("DELETE FROM myad_types");
      await s.execute("INSERT INTO myad_types (id, big, ubig) VALUES (1, ?, ?), (2, 5, 5)", [
        BigInt(big),
        "18446744073709551615",
      ]);
      expect(await s.selectValue("SELECT big FROM myad_types WHERE id = 2")).toBe(5);
      expect(typeof (await s.selectValue("SELECT count(*) FROM myad_types"))).toBe("number");
      const err = await s.select("SELECT big FROM myad_types ORDER BY id").catch((e) => e);
      expect(err).toBeInstanceOf(DataError);
    });
    const asBigint = config({ driverFeatures: { int8: "bigint" } });
    await asBigint.withSession(async (s) => {
      const rows = await s.select<{ big: bigint; ubig: bigint }>("SELECT big, ubig FROM myad_types ORDER BY id");
      expect(rows).toEqual([
        { big: BigInt(big), ubig: 18446744073709551615n },
        { big: 5n, ubig: 5n },
      ]);
    });
    const asString = config({ driverFeatures: { int8: "string" } });
    await asString.withSession(async (s) => {
      const rows = await s.select<{ big: string }>("SELECT big FROM myad_types ORDER BY id");
      expect(rows).toEqual([{ big }, { big: "5" }]);
    });
  });

  test("DECIMAL exact, DATETIME/TIMESTAMP/DATE ↔ Date in UTC whatever the process TZ, JSON parsed, BLOB → Buffer", async () => {
    const previous = process.env.TZ;
    process.env.TZ = "Asia/Tokyo";
    try {
      const when = new Date(Date.UTC(2024, 0, 31, 23, 30, 15, 123));
      await run(async (s) => {
        await s.execute("DELETE FROM myad_types");
        await s.execute(
          "INSERT INTO myad_types (id, num, dt, ts, d, j, bl, vb, t) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
          [
            "12345678901234567890.0123456789",
            when,
            when,
            new Date(Date.UTC(2024, 1, 29)),
            { a: [1, "x", null], n: 1.5 },
            Buffer.from([0, 1, 0x5c, 0xff]),
            new Uint8Array([7, 8]),
            "plain",
          ],
        );
        const row = await s.selectOne<Record<string, unknown>>("SELECT * FROM myad_types WHERE id = ?", [1]);
        expect(row.num).toBe("12345678901234567890.0123456789");
        expect((row.dt as Date).toISOString()).toBe(when.toISOString());
        expect((row.ts as Date).toISOString()).toBe(when.toISOString());
        expect((row.d as Date).toISOString()).toBe("2024-02-29T00:00:00.000Z");
        expect(row.j).toEqual({ a: [1, "x", null], n: 1.5 });
        expect(row.bl).toEqual(Buffer.from([0, 1, 0x5c, 0xff]));
        expect(row.vb).toEqual(Buffer.from([7, 8]));
        // The server stores the UTC wall clock (session time_zone +00:00).
        expect(await s.selectValue("SELECT DATE_FORMAT(dt, '%Y-%m-%d %H:%i:%s.%f') FROM myad_types")).toBe(
          "2024-01-31 23:30:15.123000",
        );
        // MariaDB stores JSON as LONGTEXT with a json_valid check; JSON functions are flagged too.
        expect(await s.selectValue("SELECT JSON_OBJECT('k', 1)")).toEqual({ k: 1 });
        // A text column holding JSON text stays text.
        await s.execute("UPDATE myad_types SET t = ? WHERE id = 1", ['{"not":"parsed"}']);
        expect(await s.selectValue("SELECT t FROM myad_types WHERE id = 1")).toBe('{"not":"parsed"}');
        // sql.json() binds a string as a JSON document
        await s.execute("UPDATE myad_types SET j = ? WHERE id = 1", [sql.json("just a string")]);
        expect(await s.selectValue("SELECT j FROM myad_types WHERE id = 1")).toBe("just a string");
      });
    } finally {
      if (previous === undefined) delete process.env.TZ;
      else process.env.TZ = previous;
    }
  });

  test("TINYINT(1) is a number unless tinyInt1AsBoolean; timestamps: 'string' keeps the server's text", async () => {
    await run(async (s) => {
      await s.execute("UPDATE myad_types SET flag = ?, small = ? WHERE id = 1", [true, 1]);
      expect(await s.selectOne("SELECT flag, small FROM myad_types WHERE id = 1")).toEqual({ flag: 1, small: 1 });
    });
    const bools = config({ driverFeatures: { tinyInt1AsBoolean: true, timestamps: "string" } });
    await bools.withSession(async (s) => {
      expect(await s.selectOne("SELECT flag, small FROM myad_types WHERE id = 1")).toEqual({ flag: true, small: 1 });
      expect(await s.selectValue("SELECT dt FROM myad_types WHERE id = 1")).toBe("2024-01-31 23:30:15.123");
    });
  });

  test("enableJsonCodecs: false returns JSON as text", async () => {
    const raw = config({ driverFeatures: { enableJsonCodecs: false } });
    await raw.withSession(async (s) => {
      expect(await s.selectValue("SELECT JSON_OBJECT('k', 1)")).toBe('{"k": 1}');
    });
  });
});

describe("mysql: errors by error number", () => {
  test("integrity errors are typed with constraint / column; the session stays usable; values never in messages", async () => {
    await run(async (s) => {
      await s.execute("INSERT IGNORE INTO myad_parent (id) VALUES (1)");
      const secret = "sk_live_secret";
      await s.execute("INSERT INTO myad_items (id, name, qty) VALUES (?, ?, 0)", [60, secret]);
      const uniq = await s
        .execute("INSERT INTO myad_items (id, name, qty) VALUES (?, ?, 0)", [61, secret])
        .catch((e) => e);
      expect(uniq).toBeInstanceOf(UniqueViolationError);
      expect(uniq.constraint).toBe("myad_items_name");
      expect(uniq.sqlState).toBe("23000");
      expect(uniq.message).toMatch(/^MariaDB unique constraint violation \[23000\/1062\]/);
      expect(uniq.message).not.toContain(secret);
      expect(uniq.cause).toBeDefined();
      const fk = await s.execute("INSERT INTO myad_child (id, parent_id) VALUES (1, ?)", [42]).catch((e) => e);
      expect(fk).toBeInstanceOf(ForeignKeyViolationError);
      expect(fk.constraint).toBe("myad_fk");
      await s.execute("INSERT INTO myad_child (id, parent_id) VALUES (1, 1)");
      const fk2 = await s.execute("DELETE FROM myad_parent WHERE id = ?", [1]).catch((e) => e);
      expect(fk2).toBeInstanceOf(ForeignKeyViolationError);
      const nn = await s.execute("INSERT INTO myad_items (id, name) VALUES (?, ?)", [62, null]).catch((e) => e);
      expect(nn).toBeInstanceOf(NotNullViolationError);
      expect(nn.column).toBe("name");
      const nd = await s.execute("INSERT INTO myad_items (id) VALUES (?)", [63]).catch((e) => e);
      expect(nd).toBeInstanceOf(NotNullViolationError);
      const ck = await s.execute("INSERT INTO myad_items (id, name, qty) VALUES (64, 'ck', ?)", [-1]).catch((e) => e);
      expect(ck).toBeInstanceOf(CheckViolationError);
      const bad = await s
        .execute("INSERT INTO myad_items (id, name, qty) VALUES (65, 'x', ?)", [secret])
        .catch((e) => e);
      expect(bad).toBeInstanceOf(DataError);
      expect(bad.message).not.toContain(secret);
      expect(await s.execute("SELEKT 1").catch((e) => e)).toBeInstanceOf(SQLParsingError);
      expect(await s.execute("SELECT * FROM myad_nope").catch((e) => e)).toBeInstanceOf(SQLParsingError);
      expect(await s.execute("SELECT nope FROM myad_items").catch((e) => e)).toBeInstanceOf(SQLParsingError);
      expect(await s.selectValue("SELECT ?", [5])).toBe(5);
      await s.executeScript("DELETE FROM myad_child; DELETE FROM myad_items WHERE id >= 60");
    });
  });

  test("deadlock → DeadlockError; lock wait timeout → OperationalError", async () => {
    await run((s) =>
      s.execute("INSERT INTO myad_kv (k, v) VALUES ('d1', ''), ('d2', '') ON DUPLICATE KEY UPDATE v = ''"),
    );
    const a = await db.provideSession();
    const b = await db.provideSession();
    try {
      await a.begin();
      await b.begin();
      await a.execute("UPDATE myad_kv SET v = 'a' WHERE k = 'd1'");
      await b.execute("UPDATE myad_kv SET v = 'b' WHERE k = 'd2'");
      const first = a.execute("UPDATE myad_kv SET v = 'a' WHERE k = 'd2'").catch((e) => e);
      await new Promise((r) => setTimeout(r, 200));
      const second = await b.execute("UPDATE myad_kv SET v = 'b' WHERE k = 'd1'").catch((e) => e);
      const outcomes = [await first, second];
      expect(outcomes.some((e) => e instanceof DeadlockError)).toBe(true);
      await a.rollback().catch(() => {});
      await b.rollback().catch(() => {});

      await a.begin();
      await a.execute("UPDATE myad_kv SET v = 'lock' WHERE k = 'd1'");
      await b.execute("SET SESSION innodb_lock_wait_timeout = 1");
      const wait = await b.execute("UPDATE myad_kv SET v = 'w' WHERE k = 'd1'").catch((e) => e);
      expect(wait).toBeInstanceOf(OperationalError);
      expect(wait.message).toContain("1205");
      await a.rollback();
    } finally {
      await a.release();
      await b.release();
    }
  });
});

describe("mysql: transactions and connection state", () => {
  test("savepoints nest; a throw rolls back only its level", async () => {
    await run(async (s) => {
      await s.execute("DELETE FROM myad_kv");
      await s.transaction(async (tx) => {
        await tx.execute("INSERT INTO myad_kv (k, v) VALUES ('outer', '')");
        await expect(
          tx.transaction(async (inner) => {
            await inner.execute("INSERT INTO myad_kv (k, v) VALUES ('inner', '')");
            throw new Error("inner");
          }),
        ).rejects.toThrow("inner");
      });
      expect(await s.select("SELECT k FROM myad_kv")).toEqual([{ k: "outer" }]);
    });
  });

  test("a transaction the server rolled back (deadlock) is 'failed': later statements are refused, commit raises", async () => {
    await run((s) =>
      s.execute("INSERT INTO myad_kv (k, v) VALUES ('f1', ''), ('f2', '') ON DUPLICATE KEY UPDATE v = ''"),
    );
    const a = await db.provideSession();
    const b = await db.provideSession();
    try {
      let victim: Session<MysqlConnection> | undefined;
      const work = (me: Session<MysqlConnection>, first: string, second: string, delay: number) =>
        me.transaction(async (tx) => {
          await tx.execute("UPDATE myad_kv SET v = ? WHERE k = ?", ["x", first]);
          await new Promise((r) => setTimeout(r, delay));
          const err = await tx.execute("UPDATE myad_kv SET v = ? WHERE k = ?", ["x", second]).catch((e) => e);
          if (err instanceof DeadlockError) {
            victim = me;
            expect(tx.adapter.state(tx.conn).transaction).toBe("failed");
            // MySQL would autocommit this after the rollback; sqlspec refuses it like PostgreSQL does.
            const refused = await tx.execute("INSERT INTO myad_kv (k, v) VALUES ('after', '')").catch((e) => e);
            expect(refused).toBeInstanceOf(TransactionError);
          } else if (err instanceof Error) throw err;
        });
      const outcomes = await Promise.allSettled([work(a, "f1", "f2", 150), work(b, "f2", "f1", 150)]);
      expect(victim).toBeDefined();
      const failed = outcomes.filter((o) => o.status === "rejected") as PromiseRejectedResult[];
      expect(failed).toHaveLength(1);
      expect(failed[0]?.reason).toBeInstanceOf(TransactionError);
      expect(victim?.inTransaction).toBe(false);
      expect(await a.selectValue("SELECT count(*) FROM myad_kv WHERE k = 'after'")).toBe(0);
    } finally {
      await a.release();
      await b.release();
    }
  });

  test("transaction options: isolation level and READ ONLY in MySQL's own syntax", async () => {
    await run(async (s) => {
      await s.transaction(
        async (tx) => {
          await tx.select("SELECT * FROM myad_kv");
          expect(
            await tx.selectValue(
              "SELECT trx_isolation_level FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID()",
            ),
          ).toBe("SERIALIZABLE");
          const err = await tx.execute("INSERT INTO myad_kv (k, v) VALUES ('ro', '')").catch((e) => e);
          expect(err).toBeInstanceOf(TransactionError);
          expect(err.message).toContain("1792");
        },
        { isolationLevel: "serializable", readOnly: true },
      );
      // The level applied to that transaction only (SET TRANSACTION without SESSION/GLOBAL).
      expect(await s.selectValue("SELECT @@session.tx_isolation")).toBe("REPEATABLE-READ");
    });
  });

  test("a raw BEGIN left open is rolled back on release (state read from the server, not from SQL text)", async () => {
    const one = config({ poolConfig: { maxSize: 1 } });
    await one.withSession(async (s) => {
      await s.execute("DELETE FROM myad_kv");
      await s.execute("/* hidden */ START TRANSACTION");
      await s.execute("INSERT INTO myad_kv (k, v) VALUES ('leak', '')");
      expect(s.adapter.state(s.conn).transaction).toBe("active");
      expect(s.inTransaction).toBe(true);
    });
    await one.withSession(async (s) => {
      expect(await s.selectValue("SELECT @@in_transaction")).toBe(0);
      expect(await s.selectValue("SELECT count(*) FROM myad_kv WHERE k = 'leak'")).toBe(0);
    });
  });

  test("SET autocommit = 0: reads open a transaction, release rolls it back and restores autocommit", async () => {
    const one = config({ poolConfig: { maxSize: 1 } });
    await one.withSession(async (s) => {
      await s.execute("DELETE FROM myad_kv");
      await s.execute("SET autocommit = 0");
      expect(s.inTransaction).toBe(false);
      await s.select("SELECT * FROM myad_kv");
      expect(s.inTransaction).toBe(true);
      await s.execute("INSERT INTO myad_kv (k, v) VALUES ('ac0', '')");
      expect(await s.selectValue("SELECT @@in_transaction")).toBe(1);
    });
    await one.withSession(async (s) => {
      expect(await s.selectValue("SELECT @@autocommit")).toBe(1);
      expect(await s.selectValue("SELECT count(*) FROM myad_kv WHERE k = 'ac0'")).toBe(0);
    });
  });

  test("session settings changed with SET do not leak to the next borrower; resetOnRelease resets always", async () => {
    const one = config({ poolConfig: { maxSize: 1 } });
    const threads = new Set<number>();
    await one.withSession(async (s) => {
      threads.add(s.conn.threadId);
      await s.execute("SET time_zone = '+05:00'");
      expect(await s.selectValue("SELECT @@session.time_zone")).toBe("+05:00");
    });
    await one.withSession(async (s) => {
      threads.add(s.conn.threadId);
      expect(await s.selectValue("SELECT @@session.time_zone")).toBe("+00:00");
    });
    // Same physical connection: it was reset, not replaced.
    expect(threads.size).toBe(1);
    const always = config({ poolConfig: { maxSize: 1, resetOnRelease: true } });
    await always.withSession((s) => s.execute("SET @user_var = 42"));
    expect(await always.withSession((s) => s.selectValue("SELECT @user_var"))).toBeNull();
  });

  test("with the default resetOnRelease, sql_mode, isolation, timeouts, user variables and temporary tables do not leak", async () => {
    const one = config({ poolConfig: { maxSize: 1 } });
    const probe = (s: Session<any>) =>
      Promise.all([
        s.selectValue("SELECT @@session.sql_mode"),
        s.selectValue("SELECT @@session.tx_isolation"),
        s.selectValue("SELECT @@session.max_statement_time"),
        s.selectValue("SELECT @secret"),
        s.selectValue("SELECT count(*) FROM information_schema.tables WHERE table_name = 'myad_leak_tmp'"),
      ]);
    const before = await one.withSession(probe);
    const changes = [
      "SET SESSION sql_mode = ''",
      "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
      "SET SESSION max_statement_time = 0.5",
      "SET @secret = 'sk_live_x'",
      "CREATE TEMPORARY TABLE myad_leak_tmp (a int)",
    ];
    for (const change of changes) {
      await one.withSession((s) => s.execute(change));
      expect(await one.withSession(probe), change).toEqual(before);
    }
    // Strict mode is back: a too-long value is an error, not silently cut.
    await one.withSession((s) => s.execute("SET SESSION sql_mode = ''"));
    await one.withSession(async (s) => {
      await s.execute("CREATE TEMPORARY TABLE myad_strict (code varchar(3))");
      await expect(s.execute("INSERT INTO myad_strict VALUES ('TOOLONG')")).rejects.toBeInstanceOf(DataError);
    });
    await one.close();
  });

  test("user variables assigned without SET (`@v :=`, `INTO @v`) and GET_LOCK locks do not leak to the next borrower", async () => {
    const one = config({ poolConfig: { maxSize: 1 } });
    const threads = new Set<number>();
    // The server does not flag these in session_track_state_change: the reset must still run.
    for (const assign of [
      "SELECT @myad_v := 5",
      "SELECT 6 INTO @myad_v",
      "SELECT 1 FROM dual WHERE (@myad_v := 7) > 0",
    ]) {
      await one.withSession(async (s) => {
        threads.add(s.conn.threadId);
        await s.execute(assign);
        expect(await s.selectValue("SELECT @myad_v"), assign).not.toBeNull();
      });
      expect(await one.withSession((s) => s.selectValue("SELECT @myad_v")), assign).toBeNull();
    }
    // Text that merely mentions them (a string, a comment) is not an assignment and leaves the connection alone.
    await one.withSession(async (s) => {
      await s.execute("SELECT '@myad_v := 1 INTO @x GET_LOCK(' /* @y := 2 */");
      expect(s.conn.stateChanged).toBe(false);
    });
    await one.withSession((s) => s.execute("SELECT GET_LOCK('myad_named_lock', 0)"));
    expect(await one.withSession((s) => s.selectValue("SELECT IS_USED_LOCK('myad_named_lock')"))).toBeNull();
    // Same physical connection throughout: reset, not replaced.
    expect(threads.size).toBe(1);
    await one.close();
  });

  test("a USE does not leak to the next borrower: the configured database is restored (COM_RESET_CONNECTION keeps it)", async () => {
    const one = config({ poolConfig: { maxSize: 1 } });
    const home = await one.withSession((s) => s.selectValue("SELECT DATABASE()"));
    expect(home).toBe(decodeURIComponent(new URL(MYSQL_URL).pathname.slice(1)));
    const threads = new Set<number>();
    await one.withSession(async (s) => {
      threads.add(s.conn.threadId);
      await s.executeScript("USE information_schema");
      expect(await s.selectValue("SELECT DATABASE()")).toBe("information_schema");
    });
    await one.withSession(async (s) => {
      threads.add(s.conn.threadId);
      expect(await s.selectValue("SELECT DATABASE()")).toBe(home);
    });
    expect(threads.size).toBe(1);
  });
});

describe("mysql: pool and connection settings", () => {
  test("minSize warms the pool, idleTimeoutMs trims it back, maxLifetimeMs recycles connections", async () => {
    const warm = config({ poolConfig: { minSize: 2, maxSize: 4, idleTimeoutMs: 200, maxLifetimeMs: 400 } });
    const adapter = (await warm.getAdapter()) as MysqlAdapter;
    for (let i = 0; i < 50 && adapter.pool.idleCount < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(adapter.pool.idleCount).toBe(2);
    const sessions = await Promise.all([0, 1, 2, 3].map(() => warm.provideSession()));
    expect(adapter.pool.size).toBe(4);
    const first = sessions[0]?.conn.threadId;
    for (const s of sessions) await s.release();
    await new Promise((r) => setTimeout(r, 700));
    // Idle beyond minSize closed; the survivors outlived maxLifetimeMs and are replaced on their next checkout.
    expect(adapter.pool.size).toBeLessThanOrEqual(2);
    const again = await warm.withSession(async (s) => s.conn.threadId);
    expect(again).not.toBe(first);
  });

  test("host/port/user/database keys, charset and a non-UTC timezone", async () => {
    const u = new URL(MYSQL_URL);
    const tz = config({
      poolConfig: {
        connectionString: undefined as unknown as string,
        host: u.hostname,
        port: Number(u.port || 3306),
        user: decodeURIComponent(u.username),
        database: u.pathname.slice(1),
        charset: "utf8mb4",
        timezone: "+02:00",
        maxSize: 1,
      },
    });
    const when = new Date(Date.UTC(2024, 5, 1, 10, 0, 0));
    await tz.withSession(async (s) => {
      expect(await s.selectValue("SELECT @@session.time_zone")).toBe("+02:00");
      expect(await s.selectValue("SELECT @@character_set_client")).toBe("utf8mb4");
      expect(await s.selectValue("SELECT 'ü🎉' AS v")).toBe("ü🎉");
      await s.execute("DELETE FROM myad_types");
      await s.execute("INSERT INTO myad_types (id, dt) VALUES (1, ?)", [when]);
      expect(((await s.selectValue("SELECT dt FROM myad_types WHERE id = 1")) as Date).toISOString()).toBe(
        when.toISOString(),
      );
      expect(await s.selectValue("SELECT DATE_FORMAT(dt, '%H:%i') FROM myad_types WHERE id = 1")).toBe("12:00");
      await s.execute("DELETE FROM myad_types");
    });
  });
});

describe("mysql: faults against the real server", () => {
  test("KILL <id> of a session's connection → DatabaseConnectionError; the pool recovers", async () => {
    const pool = config({ poolConfig: { maxSize: 2 } });
    const session = await pool.provideSession();
    const id = await session.selectValue<number>("SELECT CONNECTION_ID()");
    await run((s) => s.execute(`KILL ${Number(id)}`));
    const err = await session.selectValue("SELECT 1").catch((e) => e);
    expect(err).toBeInstanceOf(DatabaseConnectionError);
    await session.release(err);
    // Idle pooled connections killed behind the pool's back are replaced too.
    const ids = await Promise.all(
      [0, 1].map(async () => {
        const s = await pool.provideSession();
        return { s, id: await s.selectValue<number>("SELECT CONNECTION_ID()") };
      }),
    );
    for (const { s } of ids) await s.release();
    for (const { id: t } of ids) await run((s) => s.execute(`KILL ${Number(t)}`));
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 4; i++) expect(await pool.withSession((s) => s.selectValue("SELECT 41 + 1"))).toBe(42);
  });

  test("timeoutMs → QueryTimeoutError and AbortSignal → OperationCancelledError, cancelled on the server within 1 s", async () => {
    const one = config({ poolConfig: { maxSize: 1 } });
    await one.withSession(async (s) => {
      let t = Date.now();
      const timeout = await s.execute("SELECT SLEEP(5)", undefined, { timeoutMs: 100 }).catch((e) => e);
      expect(timeout).toBeInstanceOf(QueryTimeoutError);
      expect(Date.now() - t).toBeLessThan(1000);
      expect(await s.selectValue("SELECT ?", [7])).toBe(7);

      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      t = Date.now();
      const cancelled = await s.execute("SELECT SLEEP(?)", [5], { signal: ac.signal }).catch((e) => e);
      expect(cancelled).toBeInstanceOf(OperationCancelledError);
      expect(Date.now() - t).toBeLessThan(1000);
      expect(await s.selectValue("SELECT ?", [8])).toBe(8);
      // Nothing is left running on the server for this connection.
      const busy = await run((o) =>
        o.selectValue("SELECT count(*) FROM information_schema.processlist WHERE id = ? AND command = 'Query'", [
          s.conn.threadId,
        ]),
      );
      expect(busy).toBe(0);

      // A timeout that fires as a statement completes never hits the next statement.
      for (let i = 0; i < 30; i++) {
        await s.execute("SELECT SLEEP(0.01)", undefined, { timeoutMs: 10 }).catch((e) => {
          if (!(e instanceof QueryTimeoutError)) throw e;
        });
        expect(await s.selectValue("SELECT ?", [i])).toBe(i);
      }
    });
  });

  test("statementTimeoutMs uses the server's own limit (max_statement_time on MariaDB)", async () => {
    const limited = config({ poolConfig: { maxSize: 1, statementTimeoutMs: 200 } });
    await limited.withSession(async (s) => {
      expect(Number(await s.selectValue("SELECT @@max_statement_time"))).toBeCloseTo(0.2);
      const t = Date.now();
      const err = await s
        .execute(
          "SELECT count(*) FROM information_schema.columns a, information_schema.columns b, information_schema.columns c",
        )
        .catch((e) => e);
      expect(err).toBeInstanceOf(QueryTimeoutError);
      expect(err.message).toContain("1969");
      expect(Date.now() - t).toBeLessThan(2000);
      expect(await s.selectValue("SELECT 1")).toBe(1);
    });
  });

  test("pool exhausted with acquireTimeoutMs → PoolTimeoutError, not a hang", async () => {
    const one = config({ poolConfig: { maxSize: 1, acquireTimeoutMs: 200 } });
    const held = await one.provideSession();
    const t = Date.now();
    const err = await one.provideSession().catch((e) => e);
    expect(err).toBeInstanceOf(PoolTimeoutError);
    expect(Date.now() - t).toBeLessThan(2000);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await expect(one.provideSession({ signal: ac.signal })).rejects.toBeInstanceOf(OperationCancelledError);
    await held.release();
    expect(await one.withSession((s) => s.selectValue("SELECT 1"))).toBe(1);
  });

  test("wrong password / closed port → typed error in under 5 s", async () => {
    const url = new URL(MYSQL_URL);
    url.username = "myad_no_such_user";
    url.password = "wrong";
    let t = Date.now();
    const bad = new MysqlConfig({ poolConfig: { connectionString: url.toString(), connectTimeoutMs: 3000 } });
    opened.push(bad);
    const authErr = (await bad.withSession((s) => s.selectValue("SELECT 1")).catch((e) => e)) as SQLSpecError;
    expect(authErr).toBeInstanceOf(PermissionDeniedError);
    expect(authErr.message).toContain("1045");
    expect(Date.now() - t).toBeLessThan(5000);

    const port = new URL(MYSQL_URL);
    port.port = "1";
    t = Date.now();
    const closed = new MysqlConfig({ poolConfig: { connectionString: port.toString(), connectTimeoutMs: 3000 } });
    opened.push(closed);
    const connErr = await closed.withSession((s) => s.selectValue("SELECT 1")).catch((e) => e);
    expect(connErr).toBeInstanceOf(DatabaseConnectionError);
    expect(Date.now() - t).toBeLessThan(5000);
  });

  test("stream: 200k wide rows with bounded memory; breaking early releases a clean connection", async () => {
    const one = config({ poolConfig: { maxSize: 1, acquireTimeoutMs: 5000 } });
    const total = 200_000;
    const before = process.memoryUsage().rss;
    let peak = before;
    let n = 0;
    await one.withSession(async (s) => {
      for await (const row of s.stream<{ seq: number; pad: string }>(
        "SELECT seq, REPEAT('x', 200) AS pad FROM seq_1_to_200000 WHERE seq <= ?",
        [total],
        { batchSize: 2000 },
      )) {
        if (++n % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
        if (row.pad.length !== 200) throw new Error("bad row");
      }
    });
    expect(n).toBe(total);
    expect(peak - before).toBeLessThan(80 * 1024 * 1024);

    await one.withSession(async (s) => {
      let seen = 0;
      for await (const _ of s.stream("SELECT seq FROM seq_1_to_5000000", undefined, { batchSize: 500 })) {
        if (++seen === 10) break;
      }
      expect(seen).toBe(10);
    });
    // maxSize is 1: this works only if the abandoned stream gave its connection back clean.
    expect(await one.withSession((s) => s.selectValue("SELECT ?", [3]))).toBe(3);
  });

  test("stream: timeoutMs and AbortSignal stop it on the server; the session stays usable", async () => {
    const one = config({ poolConfig: { maxSize: 1 } });
    await one.withSession(async (s) => {
      const slow = "SELECT seq, SLEEP(0.001) AS z FROM seq_1_to_100000";
      let n = 0;
      const t = Date.now();
      const err = await (async () => {
        for await (const _ of s.stream(slow, undefined, { batchSize: 50, timeoutMs: 300 })) n++;
      })().catch((e) => e);
      expect(err).toBeInstanceOf(QueryTimeoutError);
      expect(Date.now() - t).toBeLessThan(1500);
      expect(n).toBeGreaterThan(0);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 200);
      const aborted = await (async () => {
        for await (const _ of s.stream(slow, undefined, { batchSize: 50, signal: ac.signal })) {
          /* consume */
        }
      })().catch((e) => e);
      expect(aborted).toBeInstanceOf(OperationCancelledError);
      expect(await s.selectValue("SELECT ?", [4])).toBe(4);
      // A statement issued from inside the loop raises instead of waiting behind the paused stream forever.
      const nested = await (async () => {
        for await (const _ of s.stream("SELECT seq FROM seq_1_to_1000", undefined, { batchSize: 10 })) {
          await s.selectValue("SELECT 1");
        }
      })().catch((e) => e);
      expect(nested).toBeInstanceOf(SQLSpecError);
      expect(nested.message).toContain("stream");
      expect(await s.selectValue("SELECT ?", [5])).toBe(5);
    });
  });
});

describe("mysql: dialect", () => {
  test("MERGE is refused with the alternative named", async () => {
    await run(async (s) => {
      const merge = sql
        .merge()
        .into("myad_kv", "t")
        .using([{ k: "a", v: "b" }], "src")
        .on("t.k = src.k")
        .whenMatchedThenUpdate({ v: "src.v" });
      const err = await s.execute(merge).catch((e) => e);
      expect(err).toBeInstanceOf(DialectNotSupportedError);
      expect(err.message).toContain("ON DUPLICATE KEY UPDATE");
    });
  });

  test("data dictionary: flavor and version from the server, columns and unique keys from information_schema", async () => {
    await run(async (s) => {
      const v = await s.dataDictionary.getVersion();
      expect((v as { flavor?: string }).flavor).toBe("mariadb");
      expect(v.versionNum).toBeGreaterThanOrEqual(100600);
      const cols = await s.dataDictionary.getColumns("myad_items");
      expect(cols.map((c) => [c.name, c.type, c.nullable])).toEqual([
        ["id", "int(11)", false],
        ["name", "varchar(100)", false],
        ["qty", "int(11)", true],
      ]);
      expect(await s.dataDictionary.getUniqueKeys("myad_items")).toEqual([["id"], ["name"]]);
      expect(await s.dataDictionary.supports("savepoints")).toBe(true);
      expect(s.adapter.capabilities.transactionalDdl).toBe(false);
    });
  });

  test("a failed script keeps the DDL before the failure (DDL is not transactional)", async () => {
    await run(async (s) => {
      await s.execute("DROP TABLE IF EXISTS myad_ddl");
      const err = await s.executeScript("CREATE TABLE myad_ddl (id int); SELEKT broken").catch((e) => e);
      expect(err).toBeInstanceOf(SQLSpecError);
      expect(await s.selectValue("SELECT count(*) FROM information_schema.tables WHERE table_name = 'myad_ddl'")).toBe(
        1,
      );
      await s.execute("DROP TABLE myad_ddl");
    });
  });
});

describe("mysql: review 9", () => {
  test("RETURNING (MariaDB): rowsAffected is the rows changed, through execute and executeMany", async () => {
    await run(async (s) => {
      await s.execute("DROP TABLE IF EXISTS myad_ret");
      await s.execute("CREATE TABLE myad_ret (id int PRIMARY KEY, v int)");
      const ins = await s.execute("INSERT INTO myad_ret (id, v) VALUES (1, 1), (2, 2) RETURNING id");
      expect([ins.rowsAffected, ins.data]).toEqual([2, [{ id: 1 }, { id: 2 }]]);
      const many = await s.executeMany("INSERT INTO myad_ret (id, v) VALUES (?, ?) RETURNING id", [
        [3, 1],
        [4, 1],
      ]);
      expect([many.rowsAffected, many.data]).toEqual([2, [{ id: 3 }, { id: 4 }]]);
      const rep = await s.execute("/* c */ REPLACE INTO myad_ret (id, v) VALUES (5, 5) RETURNING id");
      expect(rep.rowsAffected).toBe(1);
      const del = await s.execute("DELETE FROM myad_ret WHERE id > 2 RETURNING id");
      expect([del.rowsAffected, del.data.length]).toEqual([3, 3]);
      const none = await s.execute("DELETE FROM myad_ret WHERE id > 100 RETURNING id");
      expect([none.rowsAffected, none.data]).toEqual([0, []]);
      expect((await s.execute("SELECT id FROM myad_ret")).rowsAffected).toBe(0);
      await s.execute("DROP TABLE myad_ret");
    });
  });

  test("onConflict(key) is refused before I/O (ON DUPLICATE KEY UPDATE would match any unique key); a second conflict clause too", async () => {
    await run(async (s) => {
      await s.execute("DROP TABLE IF EXISTS myad_up");
      await s.execute("CREATE TABLE myad_up (id int PRIMARY KEY, name varchar(20), v int)");
      await s.execute("INSERT INTO myad_up VALUES (1, 'a', 0)");
      const rows = () => s.select("SELECT id, name, v FROM myad_up ORDER BY id");
      const late = sql.insertInto("myad_up").values({ id: 1, name: "b", v: 9 }).onConflict("name").doUpdate(["v"]);
      await expect(s.execute(late)).rejects.toBeInstanceOf(DialectNotSupportedError);
      const early = () =>
        sql
          .upsert("myad_up", { dialect: "mysql" })
          .values({ id: 1, name: "b", v: 9 })
          .onConflict("name")
          .doUpdate(["v"]);
      expect(early).toThrow(/session\.upsert/);
      const two = () =>
        sql
          .insertInto("myad_up")
          .values({ id: 1, name: "c", v: 1 })
          .onConflict()
          .doNothing()
          .onDuplicateKeyUpdate({ v: "5" });
      expect(two).toThrow(/already has its conflict clause/);
      expect(await rows()).toEqual([{ id: 1, name: "a", v: 0 }]);
      // session.upsert checks the key against the catalog: "name" is no unique key
      await expect(s.upsert("myad_up", [{ id: 1, name: "b", v: 9 }], { on: ["name"] })).rejects.toThrow(
        /not a unique key/,
      );
      // on the real key it upserts (no conflict target in the SQL)
      const r = await s.upsert("myad_up", [{ id: 1, name: "b", v: 9 }], { on: ["id"] });
      expect(r.rowsAffected).toBe(2);
      expect(await rows()).toEqual([{ id: 1, name: "b", v: 9 }]);
      // without columns the statement says what it does: any unique key
      await s.execute(sql.insertInto("myad_up").values({ id: 1, name: "x", v: 1 }).onConflict().doNothing());
      expect(await rows()).toEqual([{ id: 1, name: "b", v: 9 }]);
      await s.execute("DROP TABLE myad_up");
    });
  });
});
