/**
 * Conformance: every statement filter, on SQL text (wrapped as a subquery) and on builders (their own WHERE), with
 * the same rows from both, on every adapter.
 */
import { expect, test } from "vitest";
import {
  AnyCollectionFilter,
  BeforeAfterFilter,
  InCollectionFilter,
  LimitOffsetFilter,
  NotAnyCollectionFilter,
  NotInCollectionFilter,
  NotInSearchFilter,
  NotNullFilter,
  NullFilter,
  OnBeforeAfterFilter,
  OrderByFilter,
  SearchFilter,
  SQLBuilderError,
  type StatementFilter,
  sql,
} from "../../src/index.js";
import type { SuiteContext } from "./suite.js";

export function runFilterCases(ctx: SuiteContext): void {
  const { T, withSession } = ctx;

  test("filters: every kind gives the same rows on SQL text and on a builder", async () => {
    await withSession(async (s) => {
      await s.execute(`DELETE FROM ${T.items} WHERE id BETWEEN 300 AND 399`);
      await s.executeMany(`INSERT INTO ${T.items} (id, name, qty) VALUES (?, ?, ?)`, [
        [301, "Red apple", 1],
        [302, "green APPLE", null],
        [303, "banana", 3],
        [304, "Cherry", null],
        [305, "50%_off\\deal", 5],
      ]);
      const text = `SELECT id, name, qty FROM ${T.items} WHERE id BETWEEN 300 AND 399`;
      const builder = sql.select("id", "name", "qty").from(T.items).where("id BETWEEN 300 AND 399");
      const ids = async (...filters: StatementFilter[]): Promise<number[]> => {
        const all = [...filters, new OrderByFilter("id")];
        const fromText = (await s.select<{ id: number }>(text, undefined, { filters: all })).map((r) => r.id);
        const fromBuilder = (await s.select<{ id: number }>(builder.filter(...all))).map((r) => r.id);
        expect(fromBuilder).toEqual(fromText);
        return fromText;
      };
      expect(await ids(new NullFilter("qty"))).toEqual([302, 304]);
      expect(await ids(new NotNullFilter("qty"))).toEqual([301, 303, 305]);
      expect(await ids(new BeforeAfterFilter("id", 304, 301))).toEqual([302, 303]);
      expect(await ids(new BeforeAfterFilter("id", null, 303))).toEqual([304, 305]);
      expect(await ids(new OnBeforeAfterFilter("id", 304, 302))).toEqual([302, 303, 304]);
      expect(await ids(new OnBeforeAfterFilter("id", undefined, undefined))).toEqual([301, 302, 303, 304, 305]);
      expect(await ids(new AnyCollectionFilter("id", [301, 305, 999]))).toEqual([301, 305]);
      expect(await ids(new AnyCollectionFilter("id", []))).toEqual([]);
      expect(await ids(new AnyCollectionFilter("id", null))).toEqual([301, 302, 303, 304, 305]);
      expect(await ids(new NotAnyCollectionFilter("id", [301, 305]))).toEqual([302, 303, 304]);
      expect(await ids(new NotAnyCollectionFilter("id", []))).toEqual([301, 302, 303, 304, 305]);
      expect(await ids(new NotInCollectionFilter("id", [302]))).toEqual([301, 303, 304, 305]);
      expect(await ids(new InCollectionFilter("id", undefined))).toEqual([301, 302, 303, 304, 305]);
      // search: case-insensitive by default; wildcards and backslash in the value are literal
      expect(await ids(new SearchFilter("name", "apple"))).toEqual([301, 302]);
      expect(await ids(new SearchFilter("name", "apple", { ignoreCase: false }))).toEqual([301]);
      expect(await ids(new SearchFilter("name", "APPLE", false))).toEqual([302]);
      expect(await ids(new SearchFilter("name", "%_off\\"))).toEqual([305]);
      expect(await ids(new SearchFilter("name", "_"))).toEqual([305]);
      expect(await ids(new SearchFilter(["name", "name"], "cherry"))).toEqual([304]);
      expect(await ids(new NotInSearchFilter("name", "apple"))).toEqual([303, 304, 305]);
      expect(await ids(new NotInSearchFilter("name", "apple", { ignoreCase: false }))).toEqual([302, 303, 304, 305]);
      expect(await ids(new NotInSearchFilter("name", "Cherry", { ignoreCase: false }))).toEqual([301, 302, 303, 305]);
      // combined: AND-ed, then paged
      expect(
        await ids(new NotNullFilter("qty"), new OnBeforeAfterFilter("id", 305, 302), new LimitOffsetFilter(5, 1)),
      ).toEqual([305]);
      await s.execute(`DELETE FROM ${T.items} WHERE id BETWEEN 300 AND 399`);
    });
  });

  test("filters: date ranges bind Dates; filters narrow UPDATE and DELETE builders", async () => {
    await withSession(async (s) => {
      await s.execute(`DELETE FROM ${T.types} WHERE id BETWEEN 500 AND 599`);
      await s.execute(`INSERT INTO ${T.types} (id, ts) VALUES (501, ?), (502, ?), (503, NULL)`, [
        new Date("2024-01-01T00:00:00Z"),
        new Date("2024-06-01T00:00:00Z"),
      ]);
      const june = new Date("2024-06-01T00:00:00Z");
      const text = `SELECT id, ts FROM ${T.types} WHERE id BETWEEN 500 AND 599`;
      const builder = sql.select("id", "ts").from(T.types).where("id BETWEEN 500 AND 599");
      for (const [filter, expected] of [
        [new BeforeAfterFilter("ts", june), [501]],
        [new OnBeforeAfterFilter("ts", june), [501, 502]],
        [new OnBeforeAfterFilter("ts", null, june), [502]],
        [new BeforeAfterFilter("ts", null, new Date("2023-12-31T23:59:59Z")), [501, 502]],
      ] as const) {
        const order = new OrderByFilter("id");
        const a = (await s.select<{ id: number }>(text, undefined, { filters: [filter, order] })).map((r) => r.id);
        const b = (await s.select<{ id: number }>(builder.filter(filter, order))).map((r) => r.id);
        expect(a).toEqual(expected);
        expect(b).toEqual(expected);
      }
      const upd = await s.execute(
        sql.update(T.types).set({ big: 7 }).where("id BETWEEN 500 AND 599").filter(new NullFilter("ts")),
      );
      expect(upd.rowsAffected).toBe(1);
      expect(await s.selectValue(`SELECT id FROM ${T.types} WHERE big = 7 AND id BETWEEN 500 AND 599`)).toBe(503);
      const del = await s.execute(
        sql.deleteFrom(T.types).where("id BETWEEN 500 AND 599").filter(new OnBeforeAfterFilter("ts", june)),
      );
      expect(del.rowsAffected).toBe(2);
      expect(await s.selectValue(`SELECT count(*) FROM ${T.types} WHERE id BETWEEN 500 AND 599`)).toBe(1);
      await s.execute(`DELETE FROM ${T.types} WHERE id BETWEEN 500 AND 599`);
    });
  });

  test("undefined compared with a column is a SQLBuilderError, never IS NULL: a DELETE deletes nothing", async () => {
    await withSession(async (s) => {
      await s.execute(`DELETE FROM ${T.items} WHERE id BETWEEN 760 AND 769`);
      await s.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (761, 'x', NULL)`);
      const count = () => s.selectValue(`SELECT count(*) FROM ${T.items} WHERE id BETWEEN 760 AND 769`);
      await expect(
        (async () => s.execute(sql.deleteFrom(T.items).where({ qty: undefined }).where("id BETWEEN 760 AND 769")))(),
      ).rejects.toBeInstanceOf(SQLBuilderError);
      await expect(
        (async () => s.select(sql.select("id").from(T.items).whereBetween("id", undefined, 769)))(),
      ).rejects.toBeInstanceOf(SQLBuilderError);
      expect(Number(await count())).toBe(1);
      // null keeps its meaning
      const r = await s.execute(sql.deleteFrom(T.items).where({ qty: null }).where("id BETWEEN 760 AND 769"));
      expect(r.rowsAffected).toBe(1);
      // a collection filter with null values is no filter (documented)
      const rows = await s.select(
        sql.select("id").from(T.items).where("id BETWEEN 760 AND 769").filter(new InCollectionFilter("id", null)),
      );
      expect(rows).toEqual([]);
    });
  });
}
