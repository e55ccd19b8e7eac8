/**
 * Bulk upsert and load for engines whose upsert is an INSERT form (`ON DUPLICATE KEY UPDATE`) and that declare
 * `adapter.bulk` (MySQL/MariaDB). Three sources feed the same `INSERT … ON DUPLICATE KEY UPDATE`:
 *
 *   values  multi-row VALUES of bound parameters, chunked under the parameter limit and the packet size
 *   json    one JSON parameter read by the dialect's JSON row source (JSON_TABLE), chunked under the packet size
 *   copy    the adapter's loader (LOAD DATA LOCAL INFILE from sqlspec's own stream) into a keyless temporary stage,
 *           then INSERT … SELECT from it
 *
 * Measured on MariaDB 10.11 here (2 cores shared with other work, load 12–20, so single figures move ±30%; the
 * ratios below are medians of per-round ratios, `npm run bench -- mysql`): half-new/half-existing rows into
 * (id int pk, name varchar, price decimal(10,2), stock int, updated_at datetime(3)), ms of `session.upsert`:
 *
 *   rows      json (1,000-row docs)   values (3,000-row chunks)   copy (LOAD DATA → stage)
 *   1k                 51–64                  69–77                      71–90
 *   10k               340–650                340–650                    380–650
 *   100k             1.4–4.4 s              0.9–2.3 s                  1.4–3.4 s
 *
 * One JSON document per 1,000 rows wins small batches (one statement, nothing to prepare per size); past ~20k rows
 * JSON_TABLE's cost grows faster than the rows (2,000/10,000/50,000-row documents were each slower than 1,000) and
 * multi-row VALUES wins; LOAD DATA pays for its stage and a second pass. So `auto` = json up to
 * `bulk.largeBatch.threshold` (20,000), then values; copy stays an explicit choice and serves `loadRecords`, where
 * it streams with bounded memory. Every path encodes values alike (Date → UTC DATETIME text, Buffer → bytes,
 * objects → the configured JSON serializer, JSON strings as the document text), so a result never changes at a
 * threshold.
 */

import { dateTimeTextRefusal, utcDateTimeText } from "../core/datetime.js";
import { ParameterError, SQLBuilderError } from "../core/errors.js";
import { isJsonValue, type JsonSerializer } from "../core/json.js";
import { type ResultMetadata, SQLResult } from "../core/result.js";
import type { OperationType, Row } from "../core/types.js";
import type { BulkUpsertShape, InsertUpsertSql, JsonColumnKind } from "../dialects/bulk.js";
import type { BulkCapabilities } from "./adapter.js";
import type { BatchStatement, BulkHost } from "./bulk-host.js";
import { columnsOf } from "./bulk-run.js";
import { ObjectRows, rowArray } from "./copy-rows.js";
import { inTransaction } from "./copy-staging.js";
import type { CallDeadline } from "./deadline.js";
import { catalogTypes, checkJsonStrings, jsonCheckedRows, jsonColumns, ValueChunks } from "./upsert-checks.js";

type Rows = readonly Readonly<Record<string, unknown>>[];
/** Rows of an async source read before they are inserted, on an engine without a bulk loader. */
const ASYNC_SLICE_ROWS = 2000;

/**
 * The row sources of INSERT-form engines (MySQL/MariaDB, SQLite, DuckDB): multi-row VALUES statements, one JSON
 * document per chunk, or the engine's bulk loader.
 */
export type NativeBulkStrategy = "values" | "json" | "copy";

/**
 * Rows per multi-row VALUES statement (capped by the parameter limit): full chunks share one prepared statement;
 * 3,000 beat 500, 1,000, 6,000 and the 13,107 that 65,535 parameters allow for 5 columns at 100k rows.
 */
const VALUES_CHUNK_ROWS = 3000;
/** Rows per JSON_TABLE document: the server's cost grows faster than the document (1,000 beat 2,000, 10,000 and 50,000). */
const JSON_CHUNK_ROWS = 1000;
/** Headroom under max_allowed_packet for the statement text and protocol framing. */
const PACKET_MARGIN = 64 * 1024;
const STAGE = "sqlspec_stage";

export interface NativePlan {
  columns: string[];
  on: string[];
  update: string[];
}

/** The rows of an INSERT-form upsert, checked: the source it runs from and, for VALUES, the values to bind in order. */
export interface NativeSource {
  strategy: NativeBulkStrategy;
  /** The VALUES statements' values: every one checked already, each filled into its array just before it runs. */
  chunks?: ValueChunks;
}

/** The source for `n` rows (`auto`: by the row count); one the engine lacks raises SQLBuilderError before any I/O. */
export function nativeStrategy(
  host: BulkHost,
  bulk: BulkCapabilities,
  n: number,
  strategy: NativeBulkStrategy | "auto",
): NativeBulkStrategy {
  const chosen = strategy === "auto" ? autoStrategy(host, bulk, n) : strategy;
  if (chosen === "json" && !bulk.jsonRows) throw new SQLBuilderError("This server has no JSON row source");
  if (chosen === "copy" && !host.canCopyIn) {
    throw new SQLBuilderError(`The ${host.databaseLabel} adapter has no bulk loader`);
  }
  return chosen;
}

/** The VALUES statements' rows, read, checked and copied into their parameter arrays in one pass (ValueChunks). */
export function scannedChunks(
  bulk: BulkCapabilities,
  rows: Rows,
  columns: readonly string[],
  on: readonly string[],
  positions?: readonly number[],
): ValueChunks {
  const per = rowsPerStatement(bulk, columns.length);
  return new ValueChunks(rows, columns, on, per, bulk.refusedValue, bulk.encodeValue, positions).scan();
}

/** `session.upsert` on an INSERT-form engine. Atomic: one statement, or its own transaction (or the caller's). */
export async function nativeBulkUpsert(
  host: BulkHost,
  bulk: BulkCapabilities,
  table: string,
  rows: Rows,
  plan: NativePlan,
  source: NativeSource,
  started: number,
  deadline?: CallDeadline,
): Promise<SQLResult> {
  const types = await catalogTypes(columnsOf(host), table, plan.columns);
  checkJsonStrings(rows, plan.columns, types);
  const shape: BulkUpsertShape = {
    table,
    columns: plan.columns,
    update: plan.update,
    key: plan.on[0] as string,
    on: plan.on,
  };
  const chosen = source.strategy;
  const metadata = { strategy: chosen, rows: rows.length };
  const sql = bulk.sql;
  const version = await host.catalog.getVersion();
  return inTransaction(host, deadline, async () => {
    let total = 0;
    let statement = "";
    const counts = { inserted: 0, updated: 0, unchanged: 0 };
    let reported = false;
    const counted = (rowsAffected: number, m: Partial<typeof counts> | undefined, sql: string): void => {
      total += rowsAffected;
      statement = sql;
      if (m?.inserted !== undefined) {
        reported = true;
        counts.inserted += m.inserted;
        counts.updated += m.updated ?? 0;
        counts.unchanged += m.unchanged ?? 0;
      }
    };
    const add = (r: SQLResult): void => counted(r.rowsAffected, r.metadata as Partial<typeof counts>, r.statement);
    if (chosen === "values") {
      const maxBytes = (await host.maxPacketBytes()) - PACKET_MARGIN;
      const text = textsFor((n) => sql.upsertValues(shape, n, version));
      const chunks = packetChunks(filled(source.chunks as ValueChunks), plan.columns.length, maxBytes);
      await host.runBatch(statementsOf(chunks, text), counted, deadline);
    } else if (chosen === "json") {
      const maxBytes = (await host.maxPacketBytes()) - PACKET_MARGIN;
      const source = (sql.jsonRowsSource as NonNullable<InsertUpsertSql["jsonRowsSource"]>)(plan.columns, types);
      const text = sql.upsertFromSelect(shape, source);
      const kinds = types.map((t) => sql.jsonKind?.(t) ?? "plain");
      for (const payload of jsonChunks(rows, plan.columns, kinds, host.jsonSerializer, maxBytes)) {
        add(await host.run(text, [payload], "INSERT", undefined, deadline?.next()));
      }
    } else {
      const stage = await loadStage(host, sql, table, plan.columns, new ObjectRows(rows, plan.columns), deadline);
      const upsert = sql.upsertFromSelect(shape, sql.quoteTable(stage));
      add(await dropAfter(host, sql, stage, () => host.run(upsert, [], "INSERT", undefined, deadline?.next())));
    }
    // Only an engine that reports them (MySQL's affected-rows rule) has counts; elsewhere 0/0/0 would be a lie.
    return nativeResult(total, "INSERT", statement, started, reported ? { ...metadata, ...counts } : metadata);
  });
}

/** `loadRecords` on an INSERT-form engine: the loader past a few rows (streams, bounded memory), VALUES below. */
export async function nativeBulkLoad(
  host: BulkHost,
  bulk: BulkCapabilities,
  table: string,
  rows: readonly unknown[] | AsyncIterable<unknown>,
  columns: readonly string[],
  started: number,
  deadline?: CallDeadline,
): Promise<SQLResult> {
  const all = await tableColumns(host, table, columns);
  const types = await catalogTypes(columnsOf(host), table, columns);
  // A streamed row is checked as it is read: the load is one transaction, so a bad row leaves nothing written.
  if (Array.isArray(rows)) checkJsonStrings(rows, columns, types);
  else if (jsonColumns(types).length > 0) rows = jsonCheckedRows(rows as AsyncIterable<unknown>, columns, types);
  const sql = bulk.sql;
  if (host.canCopyIn && (!Array.isArray(rows) || rows.length > 1000)) {
    const source = Array.isArray(rows)
      ? new ObjectRows(rows, columns)
      : arraysOf(rows as AsyncIterable<unknown>, columns);
    if (bulk.loaderIntoTarget && sameList(all, columns)) {
      // The loader fails whole inside the transaction: no stage and no second pass needed.
      return inTransaction(host, deadline, async () => {
        deadline?.check();
        let n: number;
        try {
          n = await host.copyIn(table, [...columns], source);
        } catch (err) {
          throw host.mapError(err, `APPEND INTO ${table}`);
        }
        // Past the deadline the transaction rolls back: nothing of the call is written.
        deadline?.check();
        const statement = `APPEND INTO ${sql.quoteTable(table)} (${columns.map((c) => sql.quoteIdent(c)).join(", ")})`;
        return nativeResult(n, "COPY", statement, started, { strategy: "copy" });
      });
    }
    // LOAD DATA LOCAL cannot stop mid-file, so it turns errors into skipped rows: load a keyless stage, then copy it
    // into the target with one INSERT … SELECT, which fails whole on the first bad row.
    return inTransaction(host, deadline, async () => {
      const stage = await loadStage(host, sql, table, columns, source, deadline);
      const cols = columns.map((c) => sql.quoteIdent(c)).join(", ");
      const r = await dropAfter(host, sql, stage, () =>
        host.run(
          `INSERT INTO ${sql.quoteTable(table)} (${cols}) SELECT ${cols} FROM ${sql.quoteTable(stage)}`,
          [],
          "INSERT",
          undefined,
          deadline?.next(),
        ),
      );
      return nativeResult(r.rowsAffected, "COPY", r.statement, started, { strategy: "copy" });
    });
  }
  const maxBytes = (await host.maxPacketBytes()) - PACKET_MARGIN;
  const text = textsFor((n) => sql.insertValues(table, columns, n));
  return inTransaction(host, deadline, async () => {
    let total = 0;
    let statement = "";
    const insert = async (list: Rows): Promise<void> => {
      for (const chunk of valueChunks(list, columns, bulk.maxParameters, maxBytes, bulk.valuesChunkRows)) {
        const r = await host.run(text(chunk.rows), chunk.values, "INSERT", undefined, deadline?.next());
        total += r.rowsAffected;
        statement = r.statement;
      }
    };
    if (Array.isArray(rows)) await insert(rows as Rows);
    else {
      // Without a loader, an async source goes in slices (bounded memory); the transaction keeps the call atomic.
      let slice: Readonly<Record<string, unknown>>[] = [];
      for await (const row of rows as AsyncIterable<Readonly<Record<string, unknown>>>) {
        slice.push(row);
        if (slice.length >= ASYNC_SLICE_ROWS) {
          await insert(slice);
          slice = [];
        }
      }
      if (slice.length > 0) await insert(slice);
    }
    return nativeResult(total, "COPY", statement, started, { strategy: "values" });
  });
}

/** Up to `largeBatch.threshold` rows: JSON where the engine has a JSON row source, else VALUES; above: the declared source. */
function autoStrategy(host: BulkHost, bulk: BulkCapabilities, n: number): NativeBulkStrategy {
  if (n <= bulk.largeBatch.threshold) return bulk.jsonRows ? "json" : "values";
  return bulk.largeBatch.source === "copy" && !host.capabilities.copy ? "values" : bulk.largeBatch.source;
}

async function* arraysOf(rows: AsyncIterable<unknown>, columns: readonly string[]): AsyncGenerator<unknown[]> {
  for await (const row of rows) yield rowArray(row, columns);
}

/**
 * Runs the statement that reads the stage, then drops the stage. When the statement fails, its error is the one
 * raised: the drop is tried but may itself fail (DuckDB refuses every statement in an aborted transaction, whose
 * rollback removes the stage anyway; elsewhere the next call's DROP IF EXISTS clears it).
 */
async function dropAfter<T>(host: BulkHost, sql: InsertUpsertSql, stage: string, fn: () => Promise<T>): Promise<T> {
  const drop = (): Promise<unknown> => host.stage((sql.dropStage as (s: string) => string)(stage));
  let out: T;
  try {
    out = await fn();
  } catch (err) {
    await drop().catch(() => {});
    throw err;
  }
  await drop();
  return out;
}

async function loadStage(
  host: BulkHost,
  sql: InsertUpsertSql,
  table: string,
  columns: readonly string[],
  source: Iterable<unknown[]> | AsyncIterable<unknown[]>,
  deadline: CallDeadline | undefined,
): Promise<string> {
  // The stage is the session's own keyless table (nothing waits there): the deadline is checked before it is made.
  deadline?.check();
  const stage = STAGE;
  const create = sql.stageTable as NonNullable<InsertUpsertSql["stageTable"]>;
  await host.stage((sql.dropStage as (s: string) => string)(stage));
  await host.stage(create(stage, table, columns));
  try {
    await host.copyIn(stage, [...columns], source);
  } catch (err) {
    await host.stage((sql.dropStage as (s: string) => string)(stage)).catch(() => {});
    throw host.mapError(err, `LOAD DATA INTO ${stage}`);
  }
  return stage;
}

/** Every column of the table in table order (a column the rows name but the table lacks raises first). */
async function tableColumns(host: BulkHost, table: string, columns: readonly string[]): Promise<string[]> {
  await catalogTypes(columnsOf(host), table, columns);
  return (await host.catalog.getColumns(table)).map((c) => c.name);
}

/** Statement texts kept per builder (the full chunk and a few last-chunk sizes). */
const MAX_TEXTS = 8;

/**
 * The statement text for a chunk of n rows, built once per size: full chunks then share one string, so the adapter's
 * statement-cache lookup hashes and compares it once instead of per chunk (a 64-row SQLite text for five columns is
 * ~1.3 KB). Kept with a repeated upsert's plan (upsert-fast.ts), so its repeats build none.
 */
export function textsFor(build: (rows: number) => string): (rows: number) => string {
  const texts = new Map<number, string>();
  return (rows) => {
    let text = texts.get(rows);
    if (text === undefined) {
      if (texts.size >= MAX_TEXTS) texts.clear();
      text = build(rows);
      texts.set(rows, text);
    }
    return text;
  };
}

/** Each chunk with its statement text. */
function* statementsOf(chunks: Iterable<ValueChunk>, text: (rows: number) => string): Generator<BatchStatement> {
  for (const chunk of chunks) yield { sql: text(chunk.rows), values: chunk.values };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// ---------------------------------------------------------------------------------------------------- chunks

interface ValueChunk {
  rows: number;
  values: unknown[];
}

/** Rough wire size of a bound value (enough to stay under max_allowed_packet). */
function approxBytes(v: unknown): number {
  if (typeof v === "string") return v.length * 3 + 9;
  if (v instanceof Uint8Array) return v.byteLength + 9;
  if (v !== null && typeof v === "object" && !(v instanceof Date)) return 1024;
  return 12;
}

/** Full chunks share one statement text (one prepared statement per connection); the last one is shorter. */
function* valueChunks(
  rows: Rows,
  columns: readonly string[],
  maxParameters: number,
  maxBytes: number,
  chunkRows = VALUES_CHUNK_ROWS,
): Generator<ValueChunk> {
  const width = columns.length;
  const perChunk = Math.max(1, Math.min(chunkRows, Math.floor(maxParameters / Math.max(1, width))));
  // Engines without a packet limit (SQLite, DuckDB) need no size estimate per value.
  const sized = maxBytes < Number.MAX_SAFE_INTEGER - PACKET_MARGIN * 2;
  const total = rows.length;
  let values: unknown[] = new Array(Math.min(perChunk, total) * width);
  let k = 0;
  let n = 0;
  let bytes = 0;
  for (let r = 0; r < total; r++) {
    const row = rows[r];
    const arr = Array.isArray(row) ? (row as unknown[]) : undefined;
    for (let i = 0; i < width; i++) {
      const v = arr !== undefined ? arr[i] : (row as Record<string, unknown>)[columns[i] as string];
      values[k++] = v === undefined ? null : v;
      if (sized) bytes += approxBytes(v);
    }
    n++;
    if (n === perChunk || bytes > maxBytes) {
      if (k < values.length) values.length = k;
      yield { rows: n, values };
      values = new Array(Math.min(perChunk, total - r - 1) * width);
      k = 0;
      n = 0;
      bytes = 0;
    }
  }
  if (n > 0) {
    if (k < values.length) values.length = k;
    yield { rows: n, values };
  }
}

/** Rows per multi-row VALUES statement: the engine's measured chunk, under its parameter limit. */
function rowsPerStatement(bulk: BulkCapabilities, width: number): number {
  const chunkRows = bulk.valuesChunkRows ?? VALUES_CHUNK_ROWS;
  return Math.max(1, Math.min(chunkRows, Math.floor(bulk.maxParameters / Math.max(1, width))));
}

/** Each statement's values, filled when the one before has run (runBatch pulls the next only then). */
function* filled(chunks: ValueChunks): Generator<unknown[]> {
  for (let i = 0, n = chunks.count; i < n; i++) yield chunks.fill(i);
}

/** The VALUES statements, each split further where its values would exceed the packet size (MySQL). */
function* packetChunks(chunks: Iterable<unknown[]>, width: number, maxBytes: number): Generator<ValueChunk> {
  const w = Math.max(1, width);
  const sized = maxBytes < Number.MAX_SAFE_INTEGER - PACKET_MARGIN * 2;
  for (const values of chunks) {
    const total = values.length / w;
    if (!sized) {
      yield { rows: total, values };
      continue;
    }
    let start = 0;
    let bytes = 0;
    for (let r = 0; r < total; r++) {
      for (let i = r * w, end = i + w; i < end; i++) bytes += approxBytes(values[i]);
      if (bytes > maxBytes && r + 1 < total) {
        yield { rows: r + 1 - start, values: values.slice(start * w, (r + 1) * w) };
        start = r + 1;
        bytes = 0;
      }
    }
    yield { rows: total - start, values: start === 0 ? values : values.slice(start * w) };
  }
}

/** A Date as DATETIME text in UTC (the session time zone), as the loader writes it too. */
function dateText(d: Date, column: string): string {
  const refusal = dateTimeTextRefusal(d);
  if (refusal !== undefined) throw new ParameterError(`Column "${column}": ${refusal}`);
  return utcDateTimeText(d);
}

/** One value as JSON text for its column kind. */
function jsonValue(v: unknown, kind: JsonColumnKind, ser: JsonSerializer, column: string): string {
  if (v === null || v === undefined) return "null";
  switch (typeof v) {
    case "string":
      return JSON.stringify(kind === "binary" ? Buffer.from(v, "utf8").toString("hex") : v);
    case "number":
      if (!Number.isFinite(v)) throw new ParameterError(`Column "${column}": ${v} cannot be stored by MySQL`);
      return `"${v}"`;
    case "bigint":
      return `"${v}"`;
    case "boolean":
      return kind === "json" ? (v ? '"true"' : '"false"') : v ? '"1"' : '"0"';
    case "object":
      if (v instanceof Date) return `"${dateText(v, column)}"`;
      if (v instanceof Uint8Array) return `"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")}"`;
      return JSON.stringify(ser(isJsonValue(v) ? v.value : v));
    default:
      throw new ParameterError(`Column "${column}": a ${typeof v} has no SQL value`);
  }
}

/** Rows as JSON arrays, chunked under the packet size. */
function* jsonChunks(
  rows: Rows,
  columns: readonly string[],
  kinds: readonly JsonColumnKind[],
  ser: JsonSerializer,
  maxBytes: number,
): Generator<string> {
  let out = "[";
  let first = true;
  let n = 0;
  const width = columns.length;
  for (const row of rows) {
    let text = first ? "[" : ",[";
    for (let i = 0; i < width; i++) {
      const col = columns[i] as string;
      if (i > 0) text += ",";
      text += jsonValue((row as Record<string, unknown>)[col], kinds[i] as JsonColumnKind, ser, col);
    }
    text += "]";
    if (!first && (++n >= JSON_CHUNK_ROWS || (out.length + text.length) * 3 > maxBytes)) {
      n = 0;
      yield `${out}]`;
      out = "[";
      text = text.slice(1);
    }
    out += text;
    first = false;
  }
  yield `${out}]`;
}

/** The SQLResult of a bulk call: no rows, the total rowsAffected, the last statement run. */
export function nativeResult(
  rowsAffected: number,
  operationType: OperationType,
  statement: string,
  started: number,
  metadata: ResultMetadata,
): SQLResult {
  return new SQLResult<Row>({
    data: [],
    rowsAffected,
    columnNames: [],
    operationType,
    statement,
    parameters: [],
    executionTimeMs: performance.now() - started,
    metadata,
  });
}
