/**
 * The value layer's pure parts: PostgreSQL date/time text ↔ epoch ms (proleptic Gregorian, UTC rule), the array
 * parser, the int8 readers, the parser table, and the redaction of server messages. No database.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { PgTypeParsers, parsePgArray } from "../../src/adapters/postgres-common/codecs.js";
import { formatPgTimestamp, MAX_DATE_MS, parsePgTimestampMs } from "../../src/core/datetime.js";
import { redactServerMessage } from "../../src/core/errors.js";
import { int8TextReader, toInt8 } from "../../src/core/values.js";
import { DataError } from "../../src/index.js";

describe("date/time text", () => {
  test("formatPgTimestamp and parsePgTimestampMs are inverse over the whole JS Date range", () => {
    fc.assert(
      fc.property(fc.integer({ min: -MAX_DATE_MS + 1, max: MAX_DATE_MS - 1 }), (ms) => {
        expect(parsePgTimestampMs(formatPgTimestamp(new Date(ms)))).toBe(ms);
      }),
      { numRuns: 5000 },
    );
  });

  test("PostgreSQL output forms: zones with minutes and seconds, microseconds, BC, dates, infinity", () => {
    expect(parsePgTimestampMs("2024-06-01 12:30:45.123456")).toBe(Date.UTC(2024, 5, 1, 12, 30, 45, 123));
    expect(parsePgTimestampMs("2024-06-01 12:30:45.9999999")).toBe(Date.UTC(2024, 5, 1, 12, 30, 45, 999));
    expect(parsePgTimestampMs("2024-06-01 12:30:45+05:30")).toBe(Date.UTC(2024, 5, 1, 7, 0, 45));
    expect(parsePgTimestampMs("1900-01-01 00:00:00-00:09:21")).toBe(Date.UTC(1900, 0, 1, 0, 9, 21));
    expect(parsePgTimestampMs("2024-06-01 12:30:45-03")).toBe(Date.UTC(2024, 5, 1, 15, 30, 45));
    expect(parsePgTimestampMs("2024-02-29")).toBe(Date.UTC(2024, 1, 29));
    expect(parsePgTimestampMs("0001-01-01 BC")).toBe(Date.UTC(2000, 0, 1) - 2000 * 365.2425 * 86_400_000);
    expect(parsePgTimestampMs("0044-03-15 12:00:00 BC")).toBe(new Date("-000043-03-15T12:00:00Z").getTime());
    expect(parsePgTimestampMs("12345-06-07 08:09:10")).toBe(new Date("+012345-06-07T08:09:10Z").getTime());
    expect(parsePgTimestampMs("infinity")).toBe(MAX_DATE_MS);
    expect(parsePgTimestampMs("-infinity")).toBe(-MAX_DATE_MS);
    expect(parsePgTimestampMs("not a date")).toBeNaN();
    expect(formatPgTimestamp(new Date(MAX_DATE_MS))).toBe("infinity");
    expect(formatPgTimestamp(new Date(-MAX_DATE_MS))).toBe("-infinity");
    expect(formatPgTimestamp(new Date(Date.UTC(-43, 2, 15)))).toBe("0044-03-15 00:00:00.000+00 BC");
  });
});

describe("arrays", () => {
  test("quoting, escapes, NULL versus 'NULL', nesting, bounds, delimiters, element parsers", () => {
    expect(parsePgArray("{}", undefined)).toEqual([]);
    expect(parsePgArray('{a,"b c",NULL,"NULL","","q\\"\\\\"}', undefined)).toEqual([
      "a",
      "b c",
      null,
      "NULL",
      "",
      'q"\\',
    ]);
    expect(parsePgArray("{{1,2},{3,NULL}}", Number)).toEqual([
      [1, 2],
      [3, null],
    ]);
    expect(parsePgArray("[0:1]={7,8}", Number)).toEqual([7, 8]);
    expect(parsePgArray("{(1,2),(0,0);(3,3),(2,2)}", undefined, 59)).toEqual(["(1,2),(0,0)", "(3,3),(2,2)"]);
    expect(parsePgArray('{"{\\"a\\": 1}",NULL}', JSON.parse)).toEqual([{ a: 1 }, null]);
  });
});

describe("int8", () => {
  test("number mode is exact within ±2^53 − 1 and raises DataError beyond; bigint and string are exact", () => {
    const asNumber = int8TextReader("number");
    expect(asNumber("9007199254740991")).toBe(9007199254740991);
    expect(asNumber("-9007199254740991")).toBe(-9007199254740991);
    expect(() => asNumber("9007199254740992")).toThrow(DataError);
    expect(() => asNumber("-9223372036854775808")).toThrow(DataError);
    expect(int8TextReader("bigint")("-9223372036854775808")).toBe(-9223372036854775808n);
    expect(int8TextReader("string")("9223372036854775807")).toBe("9223372036854775807");
    expect(() => toInt8(2n ** 60n, "number")).toThrow(DataError);
    expect(toInt8(5, "bigint")).toBe(5n);
    expect(toInt8(5n, "string")).toBe("5");
  });

  test("the parser table applies the mode to int8 and int8[] alike", () => {
    const strings = new PgTypeParsers({ int8: "string", timestamps: "string", json: undefined });
    expect(strings.get(20)).toBeUndefined(); // the server's text is the value
    expect(strings.get(1016)?.("{1,NULL,9223372036854775807}")).toEqual(["1", null, "9223372036854775807"]);
    expect(strings.get(1114)).toBeUndefined(); // text as the server wrote it
    expect(strings.get(3802)).toBeUndefined();
    const dates = new PgTypeParsers({ int8: "number", timestamps: "date", json: JSON.parse });
    expect(dates.get(1185)?.('{"2024-06-01 12:00:00+00",NULL}')).toEqual([new Date(Date.UTC(2024, 5, 1, 12)), null]);
    expect(dates.unknown(16_500)).toBe(true);
    expect(dates.unknown(1186)).toBe(false); // interval: a built-in read as text
  });
});

describe("server messages", () => {
  test("quoted values are redacted; identifiers, SQL text and the message's shape stay", () => {
    const cases: [string, string][] = [
      ['invalid input syntax for type integer: "sk_live_abc"', 'invalid input syntax for type integer: "[redacted]"'],
      ['invalid input syntax for type integer: "a"b: "c"', 'invalid input syntax for type integer: "[redacted]"'],
      ['value "9999999999" is out of range for type integer', 'value "[redacted]" is out of range for type integer'],
      ['"1e400" is out of range for type double precision', '"[redacted]" is out of range for type double precision'],
      ['malformed array literal: "{a"', 'malformed array literal: "[redacted]"'],
      ['invalid input value for enum rating: "X"', 'invalid input value for enum rating: "[redacted]"'],
      ['invalid byte sequence for encoding "UTF8": 0xe2 0x82', 'invalid byte sequence for encoding "UTF8": [redacted]'],
      [
        'duplicate key value violates unique constraint "t_pkey"',
        'duplicate key value violates unique constraint "t_pkey"',
      ],
      [
        'null value in column "c" of relation "t" violates not-null constraint',
        'null value in column "c" of relation "t" violates not-null constraint',
      ],
      ['syntax error at or near "SELEC"', 'syntax error at or near "SELEC"'],
      ["Duplicate entry 'a@b.c' for key 't.PRIMARY'", "Duplicate entry '[redacted]' for key 't.PRIMARY'"],
      [
        "Incorrect integer value: 'abc' for column 'v' at row 1",
        "Incorrect integer value: '[redacted]' for column 'v' at row 1",
      ],
    ];
    for (const [message, redacted] of cases) expect(redactServerMessage(message)).toBe(redacted);
  });
});
