/**
 * COPY text encoding: exact unit cases, then fast-check fuzzing through a real COPY on the server (pg +
 * pg-copy-streams directly, so only the encoder is under test). NUL is excluded from the fuzz on purpose:
 * PostgreSQL text cannot hold U+0000 (the server rejects it), and lone surrogates cannot be written as UTF-8.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import fc from "fast-check";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  columnCodec,
  copyFromStdinSql,
  encodeCopyData,
  encodeCopyRow,
  encodeCopyRows,
  encodeCopySource,
  encodesWithoutError,
  escapeCopyText,
  pgArrayLiteral,
  timestampText,
} from "../../src/adapters/postgres-common/copy.js";
import { JsonValue } from "../../src/core/json.js";
import { ObjectRows } from "../../src/driver/copy-rows.js";
import { ParameterError } from "../../src/index.js";
import { PG_URL } from "../support/servers.js";

describe("COPY text encoding (pure)", () => {
  test("escapes backslash, tab, newline, CR and keeps \\N distinct from NULL", () => {
    expect(escapeCopyText("a\\b\tc\nd\re")).toBe("a\\\\b\\tc\\nd\\re");
    expect(escapeCopyText("\\N")).toBe("\\\\N");
    expect(escapeCopyText("\\.")).toBe("\\\\.");
    expect(escapeCopyText("plain é 😀")).toBe("plain é 😀");
    const text = columnCodec("text");
    expect(text.encode(null)).toBe("\\N");
    expect(text.encode(undefined)).toBe("\\N");
    expect(text.encode("\\N")).toBe("\\\\N");
    expect(text.encode("")).toBe("");
  });

  test("scalars by catalog type", () => {
    expect(columnCodec("boolean").encode(true)).toBe("true");
    expect(columnCodec("boolean").encode(false)).toBe("false");
    expect(columnCodec("bigint").encode(2n ** 63n - 1n)).toBe("9223372036854775807");
    expect(columnCodec("numeric(30,10)").encode("12345678901234567890.0123456789")).toBe(
      "12345678901234567890.0123456789",
    );
    expect(columnCodec("double precision").encode(Number.NaN)).toBe("NaN");
    expect(columnCodec("double precision").encode(-Infinity)).toBe("-Infinity");
    expect(columnCodec("bytea").encode(Buffer.from([0, 0xab, 0xff]))).toBe("\\\\x00abff");
    expect(columnCodec("bytea").encode(new Uint8Array([1, 2]).subarray(1))).toBe("\\\\x02");
    expect(columnCodec("jsonb").encode({ a: "x\ty", b: [1, 2n] })).toBe('{"a":"x\\\\ty","b":[1,2]}');
    // A string in a json column is JSON text (as a bound parameter is); sql.json() makes a JSON string of it.
    expect(columnCodec("jsonb").encode('"str"')).toBe('"str"');
    expect(columnCodec("jsonb").encode(new JsonValue("str"))).toBe('"str"');
    expect(() => columnCodec("jsonb").encode("str")).toThrow(ParameterError);
    expect(() => columnCodec("jsonb").encode(Number.NaN)).toThrow(ParameterError);
    expect(columnCodec("text").encode(new Date(Date.UTC(-43, 2, 15)))).toBe("0044-03-15 00:00:00.000+00 BC");
    expect(columnCodec("jsonb").encode([1, "a"])).toBe('[1,"a"]');
    expect(columnCodec("json").encode(new JsonValue([1]))).toBe("[1]");
    expect(columnCodec("timestamp with time zone").encode(new Date(Date.UTC(2024, 1, 29, 23, 59, 58, 7)))).toBe(
      "2024-02-29 23:59:58.007+00",
    );
  });

  test("timestampText matches toISOString for years 1–9999 and handles BC", () => {
    fc.assert(
      fc.property(fc.integer({ min: -62135596800000, max: 253402300799999 }), (ms) => {
        const d = new Date(ms);
        const iso = d.toISOString();
        expect(timestampText(d)).toBe(`${iso.slice(0, 10)} ${iso.slice(11, 23)}+00`);
      }),
      { numRuns: 2000 },
    );
    expect(timestampText(new Date(Date.UTC(-1, 0, 1)))).toBe("0002-01-01 00:00:00.000+00 BC");
    expect(() => timestampText(new Date(Number.NaN))).toThrow(RangeError);
  });

  test("PG array literals: quoting, NULL, nesting, per-type elements", () => {
    expect(pgArrayLiteral([])).toBe("{}");
    expect(pgArrayLiteral(["a", "b c", "", null, "NULL", "null", 'q"\\', "{x}", "a,b"])).toBe(
      '{a,"b c","",NULL,"NULL","null","q\\"\\\\","{x}","a,b"}',
    );
    expect(
      pgArrayLiteral([
        [1, 2],
        [3, null],
      ]),
    ).toBe("{{1,2},{3,NULL}}");
    expect(columnCodec("text[]").encode(["a\tb", "c\\d"])).toBe('{"a\\tb","c\\\\\\\\d"}');
    expect(columnCodec("boolean[]").encode([true, false])).toBe("{true,false}");
    expect(columnCodec("bytea[]").encode([Buffer.from([1])])).toBe('{"\\\\\\\\x01"}');
    // Arrays are JSON in json/jsonb columns, PG arrays elsewhere.
    expect(columnCodec("jsonb").encode([[1, 2], { a: null }])).toBe('[[1,2],{"a":null}]');
    expect(columnCodec("jsonb[]").encode([{ a: 1 }, [2]])).toBe('{"{\\\\"a\\\\":1}",{2}}');
  });

  test("rows stream as bounded chunks", async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => [i, `row ${i}`]);
    const chunks: string[] = [];
    for await (const c of encodeCopyRows(rows, ["integer", "text"], 2, { chunkSize: 4096 })) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(50);
    for (const c of chunks) expect(c.length).toBeLessThan(4096 + 64);
    expect(chunks.join("").split("\n").length).toBe(20_001);
    // A field far larger than a chunk still arrives whole.
    const big = "é".repeat(100_000);
    const out: string[] = [];
    for await (const c of encodeCopyRows(
      [
        [1, big],
        [2, "x"],
      ],
      ["integer", "text"],
      2,
      { chunkSize: 1024 },
    ))
      out.push(c);
    expect(out.join("")).toBe(`1\t${big}\n2\tx\n`);
    expect(encodeCopyRow([1, null, "x"], [columnCodec("int"), columnCodec("text"), columnCodec(undefined)])).toBe(
      "1\t\\N\tx",
    );
  });

  test("a source streamed while the COPY runs holds no value the encoder refuses, and encodes the same text", () => {
    const value = fc.oneof(
      fc.string(),
      fc.string({ unit: "binary" }),
      fc.constantFrom("a\uD800b", "\uDC00", "tab\there", "\\N"),
      fc.double(),
      fc.integer(),
      fc.constantFrom(null, undefined, true, 1n, Symbol("s"), () => 1, { a: 1 }, [1, 2], new Uint8Array([1])),
      fc.date({ noInvalidDate: false }),
    );
    const types = fc.array(fc.constantFrom("text", "integer", "jsonb", "timestamptz", "text[]", undefined), {
      minLength: 1,
      maxLength: 4,
    });
    const encoded = (f: () => Iterable<string | Buffer>): string | Error => {
      try {
        return Array.from(f(), (c) => c.toString()).join("");
      } catch (err) {
        return err as Error;
      }
    };
    fc.assert(
      fc.property(
        types.chain((t) =>
          fc.tuple(fc.constant(t), fc.array(fc.array(value, { minLength: t.length, maxLength: t.length }))),
        ),
        fc.boolean(),
        ([colTypes, arrays], asObjects) => {
          const columns = colTypes.map((_, i) => `c${i}`);
          const rows = asObjects
            ? new ObjectRows(
                arrays.map((a) => Object.fromEntries(columns.map((c, i) => [c, a[i]]))),
                columns,
              )
            : arrays;
          const all = encoded(() => encodeCopyData(rows, colTypes, colTypes.length, { columns }));
          const source = encoded(() => encodeCopySource(rows, colTypes, colTypes.length, { columns }));
          if (encodesWithoutError(rows, colTypes, colTypes.length)) expect(all).not.toBeInstanceOf(Error);
          if (all instanceof Error) {
            expect(source).toBeInstanceOf(ParameterError);
            expect((source as Error).message).toBe(all.message);
          } else expect(source).toBe(all);
        },
      ),
      { numRuns: 500 },
    );
    // What streams: plain values only.
    const at = new Date(0);
    expect(
      encodesWithoutError([[1, "a", null, at, undefined]], ["integer", "text", "jsonb", "timestamptz", "text"], 5),
    ).toBe(true);
    expect(encodesWithoutError([[1, { a: 1 }]], ["integer", "jsonb"], 2)).toBe(false);
    expect(encodesWithoutError([[1, new Date(Number.NaN)]], ["integer", "timestamptz"], 2)).toBe(false);
    expect(encodesWithoutError([[1, "a\uD800"]], ["integer", "text"], 2)).toBe(false);
  });

  test("COPY statement quoting", () => {
    expect(copyFromStdinSql("public.items", ["id", "Name", "order"])).toBe(
      'COPY "public"."items" ("id", "Name", "order") FROM STDIN',
    );
    // Table names are parsed, never pasted: quoted parts keep their dots and quotes.
    expect(copyFromStdinSql('"Bulk"."Record.Target"', ["a.b"])).toBe('COPY "Bulk"."Record.Target" ("a.b") FROM STDIN');
    expect(copyFromStdinSql('we"ird', ["x"])).toBe('COPY "we""ird" ("x") FROM STDIN');
  });
});

describe("COPY round trip through the server", () => {
  const client = new pg.Client({ connectionString: PG_URL });
  const T = "bulk_fuzz_copy";

  beforeAll(async () => {
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS ${T}`);
    await client.query(`CREATE TABLE ${T} (i int, s text, a text[])`);
  });
  afterAll(async () => {
    await client.query(`DROP TABLE IF EXISTS ${T}`);
    await client.end();
  });

  async function copy(table: string, columns: string[], types: string[], rows: unknown[][]): Promise<void> {
    const sink = client.query(copyFrom(copyFromStdinSql(table, columns)));
    await pipeline(Readable.from(encodeCopyRows(rows, types, columns.length, { chunkSize: 1024 })), sink);
  }

  // Any Unicode code point except NUL; "binary" units mix in control characters, surrogate pairs, etc.
  const text = fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !s.includes("\u0000"));
  const tricky = fc.constantFrom("\\N", "\\.", "\\", "\t", "\r\n", "NULL", "", " ", '"', "{}", ",", "\u00a0", "\u2028");
  const value = fc.oneof(
    text,
    tricky,
    fc.array(fc.oneof(text, tricky), { maxLength: 3 }).map((a) => a.join("")),
  );

  test("arbitrary strings round-trip byte for byte into text", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(value, { nil: null }), { minLength: 1, maxLength: 30 }), async (strings) => {
        await client.query(`TRUNCATE ${T}`);
        await copy(
          T,
          ["i", "s"],
          ["integer", "text"],
          strings.map((s, i) => [i, s]),
        );
        const r = await client.query(`SELECT s, octet_length(s) AS n FROM ${T} ORDER BY i`);
        expect(r.rows.map((x) => x.s)).toEqual(strings);
        expect(r.rows.map((x) => x.n)).toEqual(strings.map((s) => (s === null ? null : Buffer.byteLength(s))));
      }),
      { numRuns: 150 },
    );
  });

  test("arrays of arbitrary strings round-trip into text[]", async () => {
    const arr = fc.array(fc.option(value, { nil: null }), { maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(fc.array(arr, { minLength: 1, maxLength: 10 }), async (arrays) => {
        await client.query(`TRUNCATE ${T}`);
        await copy(
          T,
          ["i", "a"],
          ["integer", "text[]"],
          arrays.map((a, i) => [i, a]),
        );
        // unnest on the server, so no client-side array parser is involved in the check.
        const r = await client.query(
          `SELECT t.i, u.e, u.ord, cardinality(t.a) AS len FROM ${T} t
           LEFT JOIN LATERAL unnest(t.a) WITH ORDINALITY AS u(e, ord) ON true ORDER BY t.i, u.ord`,
        );
        const got: (string | null)[][] = arrays.map(() => []);
        for (const row of r.rows) if (row.ord !== null) (got[row.i] as (string | null)[]).push(row.e);
        expect(got).toEqual(arrays);
      }),
      { numRuns: 100 },
    );
  });

  test("typed values arrive exactly", async () => {
    const TT = "bulk_fuzz_types";
    await client.query(`DROP TABLE IF EXISTS ${TT}`);
    await client.query(
      `CREATE TABLE ${TT} (i int, b bigint, n numeric, ts timestamptz, tsn timestamp, d date, by bytea, bo boolean,
        j jsonb, js json, ia int[], ia2 int[][], ja jsonb[], f float8)`,
    );
    try {
      const when = new Date(Date.UTC(2024, 5, 1, 12, 30, 45, 123));
      const rows = [
        [
          1,
          2n ** 62n + 1n,
          "123456789012345678901234567890.000000000000000001",
          when,
          when,
          when,
          Buffer.from([0, 92, 10, 255]),
          true,
          { k: "v\\n\t", n: [1, null] },
          [1, { a: "b" }],
          [1, null, 3],
          [
            [1, 2],
            [3, 4],
          ],
          [{ a: 1 }, '"s"'],
          0.1,
        ],
        [
          2,
          -1n,
          "-0.5",
          new Date(Date.UTC(-44, 2, 15)),
          new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)),
          null,
          Buffer.alloc(0),
          false,
          '"just a string"',
          null,
          [],
          null,
          [],
          Number.NaN,
        ],
      ];
      await copy(
        TT,
        ["i", "b", "n", "ts", "tsn", "d", "by", "bo", "j", "js", "ia", "ia2", "ja", "f"],
        [
          "integer",
          "bigint",
          "numeric",
          "timestamp with time zone",
          "timestamp without time zone",
          "date",
          "bytea",
          "boolean",
          "jsonb",
          "json",
          "integer[]",
          "integer[]",
          "jsonb[]",
          "double precision",
        ],
        rows,
      );
      const r = await client.query(
        `SELECT i, b::text, n::text, (ts AT TIME ZONE 'UTC')::text AS ts, tsn::text, d::text, encode(by, 'hex') AS by, bo, j::text,
           js::text, ia::text, ia2::text, ja::text, f::text FROM ${TT} ORDER BY i`,
      );
      expect(r.rows[0]).toMatchObject({
        b: "4611686018427387905",
        n: "123456789012345678901234567890.000000000000000001",
        tsn: "2024-06-01 12:30:45.123",
        d: "2024-06-01",
        by: "005c0aff",
        bo: true,
        j: '{"k": "v\\\\n\\t", "n": [1, null]}',
        js: '[1,{"a":"b"}]',
        ia: "{1,NULL,3}",
        ia2: "{{1,2},{3,4}}",
        ja: '{"{\\"a\\": 1}","\\"s\\""}',
        f: "0.1",
      });
      expect(r.rows[0].ts).toBe("2024-06-01 12:30:45.123");
      expect(r.rows[1]).toMatchObject({
        b: "-1",
        n: "-0.5",
        tsn: "9999-12-31 23:59:59.999",
        by: "",
        j: '"just a string"',
        ia: "{}",
        ja: "{}",
        f: "NaN",
      });
      const bc = await client.query(
        `SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD BC') AS v FROM ${TT} WHERE i = 2`,
      );
      expect(bc.rows[0].v).toBe("0045-03-15 BC");
    } finally {
      await client.query(`DROP TABLE IF EXISTS ${TT}`);
    }
  });

  test("NUL is rejected by the server, not silently altered", async () => {
    await client.query(`TRUNCATE ${T}`);
    await expect(copy(T, ["i", "s"], ["integer", "text"], [[1, "a\u0000b"]])).rejects.toThrow();
    await client.query(`SELECT 1`);
  });
});
