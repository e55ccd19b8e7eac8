/**
 * The upsert engine's fast paths must write exactly what the general paths write: the records serializer against
 * defaultJsonSerializer (the MERGE payload), the in-place COPY row writer against the per-column codecs, and the
 * Date formatting against Date#toJSON. Pure: no database.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  columnCodec,
  encodeCopyChunks,
  encodeCopyRow,
  encodeCopyRows,
} from "../../src/adapters/postgres-common/copy.js";
import { dateJsonText } from "../../src/core/datetime.js";
import { defaultJsonSerializer, JsonValue, serializeRecords } from "../../src/core/json.js";
import { ObjectRows } from "../../src/driver/copy-rows.js";

const anyDate = fc.oneof(
  fc.date({ noInvalidDate: false }),
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15) }),
  fc.integer({ min: -62_198_755_200_000, max: 253_402_300_799_999 }).map((t) => new Date(t)), // years 0–9999
);

const jsonValue = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  anyDate,
  fc.object(),
  fc.array(fc.oneof(fc.integer(), fc.string())),
  fc.uint8Array().map((u) => Buffer.from(u)),
  fc.uint8Array(),
  fc.anything().map((x) => new JsonValue(x)),
);

describe("records serializer (the MERGE payload)", () => {
  test("writes exactly defaultJsonSerializer's text", () => {
    const keys = ["id", "a b", '"q"', "0", "é"];
    const record = fc.record(Object.fromEntries(keys.map((k) => [k, jsonValue])));
    fc.assert(
      fc.property(fc.array(record, { maxLength: 6 }), (rows) => {
        const own = rows.length > 0 ? Object.keys(rows[0] as object) : keys;
        expect(serializeRecords(rows, own)).toBe(defaultJsonSerializer(rows));
      }),
      { numRuns: 2000 },
    );
  });

  test("rows with toJSON, array rows and empty rows", () => {
    const withToJson = [{ a: 1, toJSON: () => ({ z: 1 }) }];
    expect(serializeRecords(withToJson, ["a"])).toBe(JSON.stringify(withToJson));
    expect(serializeRecords([[1, 2]], ["0", "1"])).toBe("[[1,2]]");
    expect(serializeRecords([{ a: undefined }, { a: 1 }], ["a"])).toBe('[{},{"a":1}]');
    expect(serializeRecords([], ["a"])).toBe("[]");
  });

  test("Date text equals Date#toJSON, including invalid and far years", () => {
    fc.assert(
      fc.property(anyDate, (d) => {
        expect(dateJsonText(d)).toBe(JSON.stringify(d));
      }),
      { numRuns: 5000 },
    );
    const patched = new Date(0);
    patched.toJSON = () => "custom";
    expect(dateJsonText(patched)).toBe('"custom"');
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
    fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }), // invalid: RangeError, both
    fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 3 }),
    fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
    fc.uint8Array({ maxLength: 4 }).map((u) => Buffer.from(u)),
  );

  test("object rows read in place equal the per-column codecs, for every column type", () => {
    const codecs = types.map((t) => columnCodec(t));
    fc.assert(
      fc.property(fc.array(fc.array(copyValue, { minLength: types.length, maxLength: types.length })), (arrays) => {
        const expected = arrays.map((r) => `${encodeCopyRow(r, codecs)}\n`).join("");
        const objects = arrays.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]])));
        const inPlace = [
          ...encodeCopyChunks(new ObjectRows(objects, columns), types, types.length, { chunkSize: 256 }),
        ];
        expect(inPlace.join("")).toBe(expected);
        expect([...encodeCopyChunks(arrays, types, types.length)].join("")).toBe(expected);
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
    const invalid = new ObjectRows([{ t: new Date(Number.NaN) }], ["t"]);
    expect(() => [...encodeCopyChunks(invalid, ["timestamp with time zone"], 1)]).toThrow(RangeError);
  });
});
