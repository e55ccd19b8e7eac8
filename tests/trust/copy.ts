/**
 * COPY written by hand through `session.execute` on every PostgreSQL adapter: FROM STDIN fed from `{ source }` (string,
 * bytes, iterables, a Node stream; text, CSV, binary), TO STDOUT returning its data or writing it to `{ sink }`, and
 * a COPY the server rejects half-way (CHECK violation, bad text in an int column) or whose source fails: a typed
 * error, nothing written, the connection usable or discarded, nothing hangs.
 */
import { PassThrough, Readable, Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  CheckViolationError,
  type DatabaseConfig,
  DataError,
  OperationCancelledError,
  ParameterError,
  QueryTimeoutError,
  type Session,
  SQLParsingError,
  UnsupportedOperationError,
} from "../../src/index.js";
import { failure, type TrustTarget, within } from "./suite.js";

type AnyConfig = DatabaseConfig<any, any, any>;

const text = (chunks: readonly Uint8Array[]): string => Buffer.concat(chunks).toString("utf8");

export function runCopyTrustTests(t: TrustTarget): void {
  const p = `trc_${t.name}`;
  const table = `${p}_t`;
  let db: AnyConfig;
  const ids = (s: Session<any>) =>
    s.select<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`).then((r) => r.map((x) => x.id));

  describe(`trust: ${t.name} COPY through execute`, () => {
    beforeAll(async () => {
      db = t.make({ maxSize: 1 });
      await db.withSession((s) =>
        s.executeScript(`
          DROP TABLE IF EXISTS ${table}, ${p}_copy;
          CREATE TABLE ${table} (id int PRIMARY KEY, n int CHECK (n >= 0), label text);
          CREATE TABLE ${p}_copy (id int PRIMARY KEY, n int CHECK (n >= 0), label text);
        `),
      );
    });
    afterAll(async () => {
      await db.withSession((s) => s.executeScript(`DROP TABLE IF EXISTS ${table}, ${p}_copy`)).catch(() => {});
      await db.close().catch(() => {});
    });
    const clear = (s: Session<any>) => s.execute(`DELETE FROM ${table}`);

    test("FROM STDIN: string, bytes, iterables and a Node stream; rowsAffected from the COPY tag", async () => {
      await db.withSession(async (s) => {
        await clear(s);
        const sql = `COPY ${table} (id, n, label) FROM STDIN`;
        const a = await s.execute(sql, { source: "1\t10\tone\n2\t20\t\\N\n" });
        expect(a.rowsAffected).toBe(2);
        expect(a.operationType).toBe("COPY");
        expect((await s.execute(sql, undefined, { source: Buffer.from("3\t30\tthree\n") })).rowsAffected).toBe(1);
        expect(
          (await s.execute(sql, { source: ["4\t4", "0\tfour\n", Buffer.from("5\t50\tfive\n")] })).rowsAffected,
        ).toBe(2);
        async function* gen() {
          yield "6\t60\tsix\n";
          yield Buffer.from("7\t70\tsev");
          yield "en\n";
        }
        expect((await s.execute(sql, { source: gen() })).rowsAffected).toBe(2);
        const stream = Readable.from([Buffer.from("8\t80\teight\n")]);
        expect((await s.execute(sql, { source: stream })).rowsAffected).toBe(1);
        const csv = await s.execute(`COPY ${table} (id, n, label) FROM STDIN WITH (FORMAT csv, HEADER true)`, {
          source: 'id,n,label\n9,90,"a, ""quoted"" label"\n',
        });
        expect(csv.rowsAffected).toBe(1);
        expect(await ids(s)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(await s.selectValue(`SELECT label FROM ${table} WHERE id = 9`)).toBe('a, "quoted" label');
        expect(await s.selectValue(`SELECT label FROM ${table} WHERE id = 2`)).toBeNull();
      });
    });

    test("TO STDOUT: the data as chunks, or written to a sink; binary format passes through as bytes", async () => {
      await db.withSession(async (s) => {
        await clear(s);
        await s.execute(`COPY ${table} FROM STDIN`, { source: "1\t10\tone\n2\t20\ttwo\n" });
        const out = await s.execute(`COPY (SELECT * FROM ${table} ORDER BY id) TO STDOUT`);
        expect(out.rowsAffected).toBe(2);
        expect(out.operationType).toBe("COPY");
        expect(text(out.data as unknown as Uint8Array[])).toBe("1\t10\tone\n2\t20\ttwo\n");
        const sink = new PassThrough();
        const got: Buffer[] = [];
        sink.on("data", (c: Buffer) => got.push(c));
        const r = await s.execute(`COPY ${table} TO STDOUT WITH (FORMAT csv)`, { sink });
        expect(r.rowsAffected).toBe(2);
        expect(r.data).toEqual([]);
        expect(Buffer.concat(got).toString().split("\n").sort()).toEqual(["", "1,10,one", "2,20,two"]);
        // binary out, binary in: the bytes pass through untouched
        const bin = await s.execute(`COPY ${table} TO STDOUT (FORMAT binary)`);
        expect(
          Buffer.concat(bin.data as unknown as Uint8Array[])
            .subarray(0, 11)
            .toString("latin1"),
        ).toBe("PGCOPY\n\xff\r\n\0");
        await s.execute(`DELETE FROM ${p}_copy`);
        const back = await s.execute(`COPY ${p}_copy FROM STDIN (FORMAT binary)`, {
          source: bin.data as unknown as Uint8Array[],
        });
        expect(back.rowsAffected).toBe(2);
        expect(await s.select(`SELECT * FROM ${p}_copy ORDER BY id`)).toEqual([
          { id: 1, n: 10, label: "one" },
          { id: 2, n: 20, label: "two" },
        ]);
      });
    });

    test.each([
      ["a CHECK violation", "1\t1\tok\n2\t-5\tbad\n", CheckViolationError, "23514"],
      ["bad text in an int column", "1\t1\tok\n2\tnot-a-number\tbad\n", DataError, "22P02"],
    ])(
      "a COPY the server rejects half-way (%s): typed error, nothing written, nothing hangs",
      async (_, data, cls, state) => {
        await db.withSession(async (s) => {
          await clear(s);
          const sql = `COPY ${table} (id, n, label) FROM STDIN`;
          // many good rows first, so the server fails while data is still being sent
          async function* source() {
            for (let i = 0; i < 200; i++) yield `${1000 + i}\t${i}\tfill\n`;
            yield data;
            for (let i = 0; i < 200; i++) yield `${2000 + i}\t${i}\tafter\n`;
          }
          for (const src of [data, source()]) {
            const err = await within(10_000, "failed COPY", failure(s.execute(sql, { source: src })));
            expect(err).toBeInstanceOf(cls);
            expect(err.sqlState).toBe(state);
            expect(
              await within(3000, "same session afterwards", s.selectValue("SELECT count(*)::int FROM " + table)),
            ).toBe(0);
          }
          // inside a transaction: the transaction is failed; rolling back restores the session
          await s.begin();
          const inTx = await within(10_000, "COPY in transaction", failure(s.execute(sql, { source: data })));
          expect(inTx).toBeInstanceOf(cls);
          await s.rollback();
          expect(await s.selectValue("SELECT 5")).toBe(5);
        });
        // the pool's one connection is usable by the next session
        expect(
          await within(
            3000,
            "next session",
            db.withSession((s) => s.selectValue("SELECT 6")),
          ),
        ).toBe(6);
      },
    );

    test("a source that fails half-way: its error, nothing written, the connection usable", async () => {
      await db.withSession(async (s) => {
        await clear(s);
        async function* broken() {
          yield "1\t1\tone\n";
          throw new Error("source broke");
        }
        const err = await within(
          10_000,
          "COPY with a failing source",
          failure(s.execute(`COPY ${table} FROM STDIN`, { source: broken() })),
        );
        expect(err).toBeInstanceOf(Error);
        expect(String(err.message) + String(err.cause?.message)).toMatch(/source broke/);
        const chunk = await failure(s.execute(`COPY ${table} FROM STDIN`, { source: [42 as unknown as string] }));
        expect(chunk).toBeInstanceOf(ParameterError);
        expect(await within(3000, "same session afterwards", ids(s))).toEqual([]);
      });
      expect(
        await within(
          3000,
          "next session",
          db.withSession((s) => s.selectValue("SELECT 7")),
        ),
      ).toBe(7);
    });

    test("TO STDOUT of thousands of rows, then the next statement on the same connection answers", async () => {
      // postgres.js pauses its socket when the COPY stream is full; when the COPY's end came in the same read, nothing
      // resumed it and the connection's next answer was never read (the pool's one connection hung for good).
      for (const rows of [1000, 5000, 20000]) {
        for (const sinkOrData of ["data", "sink"] as const) {
          const sink = new Writable({ write: (_c, _e, cb) => cb() });
          const copy = `COPY (SELECT g, repeat('x', 100) FROM generate_series(1, ${rows}) g) TO STDOUT`;
          const out = await within(
            5000,
            `COPY TO of ${rows} rows (${sinkOrData})`,
            db.withSession(async (s) => {
              const r = await s.execute(copy, sinkOrData === "sink" ? { sink } : undefined);
              return [r.rowsAffected, await within(5000, "same session, next", s.selectValue("SELECT 42"))];
            }),
          );
          expect(out).toEqual([rows, 42]);
          expect(
            await within(
              5000,
              "next session",
              db.withSession((s) => s.selectValue("SELECT 43")),
            ),
          ).toBe(43);
        }
      }
    });

    test("TO STDOUT that fails: a server error is typed, a failing sink fails the call; nothing hangs", async () => {
      await db.withSession(async (s) => {
        await clear(s);
        const missing = await within(5000, "COPY of a missing table", failure(s.execute(`COPY ${p}_none TO STDOUT`)));
        expect(missing).toBeInstanceOf(SQLParsingError);
        expect(await within(3000, "same session afterwards", s.selectValue("SELECT 11"))).toBe(11);
        await s.execute(`INSERT INTO ${table} (id, n) SELECT g, g FROM generate_series(1, 20000) g`);
        const sink = new Writable({
          write(_chunk, _enc, cb) {
            cb(new Error("sink broke"));
          },
        });
        const err = await within(
          10_000,
          "COPY into a failing sink",
          failure(s.execute(`COPY ${table} TO STDOUT`, { sink })),
        );
        expect(String(err?.message) + String(err?.cause?.message)).toMatch(/sink broke/);
      });
      // the connection, left mid-COPY or not, is never handed out in that state
      expect(
        await within(
          5000,
          "next session",
          db.withSession((s) => s.selectValue(`SELECT count(*)::int FROM ${table}`)),
        ),
      ).toBe(20000);
      await db.withSession((s) => clear(s));
    });

    if (t.interrupts) {
      test("TO STDOUT into a slow sink that times out or is aborted: typed error, and the next session runs", async () => {
        const slowSink = () =>
          new Writable({
            highWaterMark: 1024,
            write(_chunk, _enc, cb) {
              setTimeout(cb, 20);
            },
          });
        const big = "COPY (SELECT g, repeat('x', 50) FROM generate_series(1, 2000000) g) TO STDOUT";
        for (let round = 0; round < 4; round++) {
          const options =
            round % 2 === 0
              ? { sink: slowSink(), timeoutMs: 300 }
              : { sink: slowSink(), signal: AbortSignal.timeout(300) };
          const err = await within(
            10_000,
            `slow COPY TO (round ${round})`,
            db.withSession((s) => failure(s.execute(big, options))),
          );
          expect(err, `round ${round}`).toBeInstanceOf(round % 2 === 0 ? QueryTimeoutError : OperationCancelledError);
          expect(
            await within(
              5000,
              `next session (round ${round})`,
              db.withSession((s) => s.selectValue("SELECT 5")),
            ),
          ).toBe(5);
        }
      });
    }

    test("stream() of a COPY is refused before anything is sent; the session goes on", async () => {
      await db.withSession(async (s) => {
        for (const copy of [`COPY ${table} TO STDOUT`, `COPY ${table} FROM STDIN`]) {
          const err = await failure(
            (async () => {
              for await (const _ of s.stream(copy)) {
                // never reached
              }
            })(),
          );
          expect(err, copy).toBeInstanceOf(UnsupportedOperationError);
          expect(err.message, copy).toMatch(/execute\(copy/);
        }
        expect(await s.selectValue("SELECT 6")).toBe(6);
      });
    });

    test("refusals before anything is sent: no source, a bad source, source/sink on other statements", async () => {
      await db.withSession(async (s) => {
        await expect(s.execute(`COPY ${table} FROM STDIN`)).rejects.toBeInstanceOf(UnsupportedOperationError);
        await expect(s.execute(`COPY ${table} FROM STDIN`, { source: 42 as never })).rejects.toBeInstanceOf(
          ParameterError,
        );
        await expect(s.execute(`COPY ${table} TO STDOUT`, { source: "x" })).rejects.toBeInstanceOf(ParameterError);
        await expect(s.execute(`COPY ${table} FROM STDIN`, { sink: new PassThrough() })).rejects.toBeInstanceOf(
          UnsupportedOperationError,
        );
        // a named parameter called "source" on an ordinary statement is still a parameter
        expect(await s.selectValue("SELECT :source::int AS v", { source: 3 })).toBe(3);
        expect(await s.selectValue("SELECT 1")).toBe(1);
      });
    });
  });
}
