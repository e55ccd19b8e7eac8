/**
 * session.upsert on SQLite reads row values with a reader generated per column list (driver/row-reader.ts). Column
 * names are data there as everywhere: a name written to end a string literal and run code is only a property key,
 * and rows holding values the reader leaves to the checked path (Date, Buffer, bigint, undefined, bad values) are
 * bound and refused as before, at the right column and row.
 */
import { afterAll, describe, expect, test } from "vitest";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import { CardinalityViolationError, ParameterError, SQLBuilderError } from "../../src/index.js";

const HOSTILE = 'a"]; globalThis.__sqlspecPwned = 1; //';
// biome-ignore lint/suspicious/noTemplateCurlyInString: the name is written to look like a template to the generator.
const BACKTICK = "b`${globalThis.__sqlspecPwned = 2}`\\'";
const LINE = "c\u2028d";

const db = new SqliteConfig();
afterAll(() => db.close());

describe("sqlite: generated row reader", () => {
  test("hostile column names are property keys, not code; every value lands in its column", async () => {
    await db.withSession(async (s) => {
      const q = (c: string): string => `"${c.replaceAll('"', '""')}"`;
      await s.execute(
        `CREATE TABLE hostile (id INTEGER PRIMARY KEY, ${q(HOSTILE)} TEXT, ${q(BACKTICK)} REAL, ${q(LINE)} BLOB)`,
      );
      const rows = Array.from({ length: 450 }, (_, i) => ({
        id: i + 1,
        [HOSTILE]: i === 7 ? undefined : `v${i}`,
        [BACKTICK]: i === 300 ? 10n : i / 2,
        [LINE]: i === 201 ? Buffer.from([i % 256]) : null,
      }));
      const r = await s.upsert("hostile", rows, { on: ["id"] });
      expect(r.rowsAffected).toBe(450);
      expect((globalThis as { __sqlspecPwned?: unknown }).__sqlspecPwned).toBeUndefined();
      const back = await s.select<Record<string, unknown>>(`SELECT * FROM hostile ORDER BY id`);
      expect(back.length).toBe(450);
      for (const [i, row] of back.entries()) {
        expect(row[HOSTILE], `row ${i}`).toBe(i === 7 ? null : `v${i}`);
        expect(Number(row[BACKTICK]), `row ${i}`).toBe(i === 300 ? 10 : i / 2);
        if (i === 201) expect(Buffer.from(row[LINE] as Uint8Array)).toEqual(Buffer.from([201]));
        else expect(row[LINE], `row ${i}`).toBeNull();
      }
    });
  });

  test("full statements refill one parameter array: every statement's rows land as given", async () => {
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE refill (id INTEGER PRIMARY KEY, name TEXT, qty REAL)");
      await s.upsert("refill", [{ id: 3, name: "old", qty: 0 }], { on: ["id"] });
      // 1,050 rows: sixteen full 64-row statements, then a 26-row one; half of them updates.
      const rows = Array.from({ length: 1050 }, (_, i) => ({ id: i * 2 + 1, name: `n${i}`, qty: i / 4 }));
      const r = await s.upsert("refill", rows, { on: ["id"] });
      expect(r.rowsAffected).toBe(1050);
      const back = await s.select<{ id: number; name: string; qty: number }>("SELECT * FROM refill ORDER BY id");
      expect(back).toEqual(rows);
    });
  });

  test("a bad value after a row the reader hands back is still named by column and row; nothing written", async () => {
    await db.withSession(async (s) => {
      await s.execute(
        `CREATE TABLE hostile2 (id INTEGER PRIMARY KEY, "${HOSTILE.replaceAll('"', '""')}" REAL, d TEXT)`,
      );
      const rows = Array.from({ length: 450 }, (_, i) => ({
        id: i + 1,
        [HOSTILE]: i === 420 ? Number.NaN : i,
        d: i === 419 ? new Date(0) : "x",
      }));
      const err = await s.upsert("hostile2", rows, { on: ["id"] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ParameterError);
      expect((err as Error).message).toContain(`column "${HOSTILE}" of row 420`);
      expect((await s.select(`SELECT id FROM hostile2`)).length).toBe(0);
    });
  });

  test("one pass reads keys, values and key facts: every refusal as before, in the same order", async () => {
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE scan (id INTEGER PRIMARY KEY, name TEXT, qty REAL)");
      const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `n${i}`, qty: i }));
      const count = async () => (await s.selectValue<number>("SELECT count(*) FROM scan")) as number;
      const fails = async (input: readonly Record<string, unknown>[], opts: Record<string, unknown> = {}) =>
        s.upsert("scan", input, { on: ["id"], ...opts }).catch((e: unknown) => e);

      // A row without a key, with an extra key, or with an absent key where others hold undefined.
      const missing: Record<string, unknown>[] = rows(450);
      missing[250] = { id: 251, qty: 1 };
      let err = await fails(missing);
      expect(err).toBeInstanceOf(SQLBuilderError);
      expect((err as Error).message).toMatch(/^Row 250 has different keys from row 0 \(missing "name"\)/);
      const extra: Record<string, unknown>[] = rows(450);
      extra[449] = { ...extra[449], price: 3 };
      err = await fails(extra);
      expect((err as Error).message).toMatch(/^Row 449 has different keys from row 0 \(extra "price"\)/);
      const same = rows(3).map((r) => ({ ...r, name: undefined }));
      same[2] = { id: 3, qty: 2 } as (typeof same)[number];
      err = await fails(same);
      expect((err as Error).message).toMatch(/^Row 2 has different keys/);
      expect(await count()).toBe(0);

      // Keys in another order are the same keys: every value lands in its column.
      const reordered: Record<string, unknown>[] = rows(450);
      reordered[300] = { qty: 300, name: "n300", id: 301 };
      reordered[301] = { name: undefined, id: 302, qty: 301 };
      expect((await s.upsert("scan", reordered, { on: ["id"] })).rowsAffected).toBe(450);
      expect(await s.select("SELECT id, name, qty FROM scan WHERE id IN (301, 302) ORDER BY id")).toEqual([
        { id: 301, name: "n300", qty: 300 },
        { id: 302, name: null, qty: 301 },
      ]);
      await s.execute("DELETE FROM scan");

      // Order of refusals: other keys before a duplicate key, a duplicate before a bad value.
      const dupBad: Record<string, unknown>[] = rows(450);
      dupBad[5] = { id: 6, name: "x", qty: Number.NaN };
      dupBad[400] = { id: 10, name: "dup", qty: 1 };
      err = await fails(dupBad);
      expect(err).toBeInstanceOf(CardinalityViolationError);
      expect((err as Error).message).toContain("(rows 9 and 400)");
      dupBad[420] = { id: 421 };
      err = await fails(dupBad);
      expect((err as Error).message).toMatch(/^Row 420 has different keys/);
      // Not ascending, no duplicate: written whole.
      const shuffled = rows(450).reverse();
      expect((await s.upsert("scan", shuffled, { on: ["id"] })).rowsAffected).toBe(450);
      expect(await count()).toBe(450);
      await s.execute("DELETE FROM scan");

      // last-wins: the bad value in a row it drops is never bound; one in a row it keeps is refused.
      const lastWins: Record<string, unknown>[] = rows(450);
      lastWins[3] = { id: 8, name: "dropped", qty: Number.NaN };
      const r = await s.upsert("scan", lastWins, { on: ["id"], duplicates: "last-wins" });
      expect(r.rowsAffected).toBe(449);
      expect(await s.selectValue("SELECT name FROM scan WHERE id = 8")).toBe("n7");
      lastWins[7] = { id: 8, name: "kept", qty: Number.NaN };
      err = await fails(lastWins, { duplicates: "last-wins" });
      expect(err).toBeInstanceOf(ParameterError);
      expect((err as Error).message).toContain('column "qty" of row 7');
      expect(await s.selectValue("SELECT name FROM scan WHERE id = 8")).toBe("n7");
    });
  });

  test("values the adapter encodes (Date, boolean, bigint, bytes, JSON) land as execute binds them; a refused one is named before any write", async () => {
    await db.withSession(async (s) => {
      const ddl = (t: string) =>
        `CREATE TABLE ${t} (id INTEGER PRIMARY KEY, at TEXT, ok INTEGER, big INTEGER, raw BLOB, doc TEXT)`;
      await s.execute(ddl("enc_bulk"));
      await s.execute(ddl("enc_one"));
      const rows = Array.from({ length: 450 }, (_, i) => ({
        id: i + 1,
        at: new Date(Date.UTC(2024, 5, 1, 12, 0, 0, i)),
        ok: i % 2 === 0,
        big: 9007199254740993n + BigInt(i),
        raw: i % 3 === 0 ? Buffer.from([i % 256, 0]) : new Uint8Array([1, i % 256]),
        doc: i % 5 === 0 ? null : { i, tags: ["a", "b"] },
      }));
      expect((await s.upsert("enc_bulk", rows, { on: ["id"] })).rowsAffected).toBe(450);
      await s.executeMany(
        "INSERT INTO enc_one (id, at, ok, big, raw, doc) VALUES (?, ?, ?, ?, ?, ?)",
        rows.map((r) => [r.id, r.at, r.ok, r.big, r.raw, r.doc]),
      );
      const read = (t: string) =>
        s.select(`SELECT id, at, ok, CAST(big AS TEXT) AS big, raw, doc FROM ${t} ORDER BY id`);
      const bulk = await read("enc_bulk");
      expect(bulk).toEqual(await read("enc_one"));
      expect(bulk[1]).toMatchObject({ at: "2024-06-01 12:00:00.001", ok: 0, doc: '{"i":1,"tags":["a","b"]}' });

      // Refused by the adapter's encoding: named by column and row, before anything is written.
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      for (const [column, bad] of [
        ["doc", circular],
        ["at", new Date(Date.UTC(10000, 0, 1))],
      ] as const) {
        const input = rows.map((r) => ({ ...r, id: r.id + 1000 }));
        input[333] = { ...(input[333] as (typeof input)[number]), [column]: bad } as (typeof input)[number];
        const err = await s.upsert("enc_bulk", input, { on: ["id"] }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ParameterError);
        expect((err as Error).message).toContain(`column "${column}" of row 333`);
        expect(await s.selectValue("SELECT count(*) FROM enc_bulk")).toBe(450);
      }
    });
  });
});
