/**
 * The bulk paths' fast paths must write exactly what their general forms write: the in-place COPY row writer against
 * the per-column codecs, and the JSON records source against the COPY text (what json_to_recordset hands a column's
 * input function must be the text COPY sends), value by value. Pure: no database.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  columnCodec,
  encodeCopyChunks,
  encodeCopyRow,
  encodeCopyRows,
} from "../../src/adapters/postgres-common/copy.js";
import { JsonValue } from "../../src/core/json.js";
import { ColumnKind, columnJson, columnText, encodeRecordsJson } from "../../src/core/values.js";
import { ObjectRows } from "../../src/driver/copy-rows.js";
import { dedupe } from "../../src/driver/upsert-checks.js";
import { ParameterError } from "../../src/index.js";

const anyDate = fc.oneof(
  fc.date({ noInvalidDate: false }),
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15) }),
  fc.integer({ min: -62_198_755_200_000, max: 253_402_300_799_999 }).map((t) => new Date(t)), // years 0–9999
);

const anyValue = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.constantFrom('{"a":1}', "[1,2]", '"s"', "12", "null", " true "),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  anyDate,
  fc.object(),
  fc.uint8Array().map((u) => Buffer.from(u)),
  fc.uint8Array(),
  fc.anything().map((x) => new JsonValue(x)),
);

/** What json_to_recordset hands a column's input function for one JSON value (`null`: SQL NULL). */
function recordsetText(json: string, kind: ColumnKind): string | null {
  if (json === "null") return null;
  if (kind === ColumnKind.Json) return json;
  return json.startsWith('"') ? (JSON.parse(json) as string) : json;
}

function outcome(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    return err instanceof ParameterError ? "ParameterError" : err;
  }
}

describe("JSON records source (upsert/MERGE below the COPY threshold)", () => {
  test("every scalar column value carries exactly the text COPY writes, or both raise ParameterError", () => {
    for (const kind of [ColumnKind.Scalar, ColumnKind.Json]) {
      fc.assert(
        fc.property(anyValue, (v) => {
          const copy = outcome(() => columnText(v, kind, JSON.stringify));
          const json = outcome(() => recordsetText(columnJson(v, kind, JSON.stringify), kind));
          expect(json).toEqual(copy);
        }),
        { numRuns: 3000 },
      );
    }
  });

  test("an Invalid Date is ParameterError on both forms for every column kind (JSON.stringify would write null)", () => {
    const bad = new Date(Number.NaN);
    // As a column value or an array element; inside a JSON document (an array in a json column) JSON's rules apply.
    const arrays: ColumnKind[] = [ColumnKind.Array, ColumnKind.JsonArray, ColumnKind.Any];
    for (const kind of [ColumnKind.Scalar, ColumnKind.Json, ...arrays]) {
      for (const v of arrays.includes(kind) ? [bad, [bad], [1, [bad]]] : [bad]) {
        expect(outcome(() => columnText(v, kind, JSON.stringify))).toBe("ParameterError");
        expect(outcome(() => columnJson(v, kind, JSON.stringify))).toBe("ParameterError");
      }
    }
    expect(() => encodeRecordsJson([{ j: bad }], ["j"], ["jsonb"])).toThrow(/column "j" of row 0: an Invalid Date/);
  });

  test("records: one object per row, columns by name, values by the column rules; bad values name column and row", () => {
    const d = new Date(Date.UTC(2024, 5, 1, 23, 30, 45, 123));
    const rows = [
      { id: 1, at: d, f: Number.NaN, j: { a: [1] }, s: 'q"', extra: "ignored" },
      { id: 2, at: null, f: 1.5, j: '{"b":2}', s: undefined, extra: 0 },
    ];
    const types = ["integer", "timestamp with time zone", "double precision", "jsonb", "text"];
    const text = encodeRecordsJson(rows, ["id", "at", "f", "j", "s"], types, JSON.stringify);
    expect(text).toBe(
      '[{"id":1,"at":"2024-06-01 23:30:45.123+00","f":"NaN","j":{"a":[1]},"s":"q\\""},' +
        '{"id":2,"at":null,"f":1.5,"j":{"b":2},"s":null}]',
    );
    expect(encodeRecordsJson([], ["a"], undefined, JSON.stringify)).toBe("[]");
    expect(() => encodeRecordsJson([{ a: 1 }, { a: Symbol("x") }], ["a"], ["text"], JSON.stringify)).toThrow(
      /column "a" of row 1: a Symbol/,
    );
  });
});

describe("COPY row writer (in place, inline fast paths)", () => {
  const types = [
    "integer",
    "text",
    "numeric(12,2)",
    "timestamp with time zone",
    "date",
    "jsonb",
    "boolean",
    "bytea",
    "text[]",
    "jsonb[]",
    undefined,
  ];
  const columns = types.map((_, i) => `c${i}`);
  const copyValue = fc.oneof(
    fc.string({ unit: "binary" }).filter((s) => !s.includes("\u0000")),
    fc.constantFrom("\\N", "\\.", "a\tb", "x\r\ny", "\\"),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.bigInt(),
    fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: false }),
    fc.constantFrom('{"a":1}', "[1]", '"s"'),
    fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 3 }),
    fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
    fc.uint8Array({ maxLength: 4 }).map((u) => Buffer.from(u)),
  );

  test("object rows read in place equal the per-column codecs, for every column type", () => {
    const codecs = types.map((t) => columnCodec(t));
    fc.assert(
      fc.property(fc.array(fc.array(copyValue, { minLength: types.length, maxLength: types.length })), (arrays) => {
        // A value no column can hold raises ParameterError on every form alike.
        const expected = outcome(() => arrays.map((r) => `${encodeCopyRow(r, codecs)}\n`).join(""));
        const objects = arrays.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]])));
        const inPlace = outcome(() =>
          [...encodeCopyChunks(new ObjectRows(objects, columns), types, types.length, { chunkSize: 256 })].join(""),
        );
        expect(inPlace).toEqual(expected);
        expect(outcome(() => [...encodeCopyChunks(arrays, types, types.length)].join(""))).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  test("sync and async sources chunk the same text; mixed object/array rows; zero columns", async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ({ id: i, name: `r${i}` }));
    const sync = [...encodeCopyChunks(new ObjectRows(rows, ["id", "name"]), ["integer", "text"], 2)];
    async function* gen(): AsyncGenerator<unknown[]> {
      for (const r of rows) yield [r.id, r.name];
    }
    const fromAsync: string[] = [];
    for await (const c of encodeCopyRows(gen(), ["integer", "text"], 2)) fromAsync.push(c);
    expect(sync.join("")).toBe(fromAsync.join(""));
    expect(sync.length).toBeGreaterThan(0);
    const mixed = [...encodeCopyChunks(new ObjectRows([{ id: 1, name: "a" }, [2, "b"]], ["id", "name"]), [], 2)];
    expect(mixed.join("")).toBe("1\ta\n2\tb\n");
    expect([...encodeCopyChunks([[], []], [], 0)].join("")).toBe("\n\n");
    expect([...encodeCopyChunks(new ObjectRows([], ["id"]), ["integer"], 1)]).toEqual([]);
    const invalid = new ObjectRows(
      [
        { id: 1, t: new Date(0) },
        { id: 2, t: new Date(Number.NaN) },
      ],
      ["id", "t"],
    );
    expect(() => [...encodeCopyChunks(invalid, ["integer", "timestamp with time zone"], 2)]).toThrow(
      /column "t" of row 1: an Invalid Date/,
    );
    const asArrays = [
      [1, "x"],
      [2, Symbol("s")],
    ];
    expect(() => [...encodeCopyChunks(asArrays, ["integer", "text"], 2, { columns: ["id", "name"] })]).toThrow(
      /column "name" of row 1: a Symbol/,
    );
  });
});

describe("upsert duplicate keys: the integer fast path decides as the general path", () => {
  // Digit strings are the same keys as the numbers they spell, but take the general (Map) path.
  const outcome = (keys: readonly (number | string)[], mode: "error" | "last-wins") => {
    const rows = keys.map((id, i) => ({ id, i }));
    try {
      return { kept: dedupe("t", rows, ["id"], mode).map((r) => r.i) };
    } catch (err) {
      return { error: (err as Error).message, class: (err as Error).name };
    }
  };
  test("ascending, dense and sparse integer keys, with and without duplicates", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: 40 }),
          fc.array(fc.integer({ min: -1e12, max: 1e12 }), { maxLength: 40 }),
          fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { maxLength: 40 }).map((a) => a.sort((x, y) => x - y)),
        ),
        fc.constantFrom("error" as const, "last-wins" as const),
        (keys, mode) => {
          expect(outcome(keys, mode)).toEqual(outcome(keys.map(String), mode));
        },
      ),
    );
  });
});
