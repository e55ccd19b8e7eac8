/**
 * PGlite statements: one statement under the transaction lock (the hot path takes a free lock without a microtask),
 * a lease sharing its parent's transaction (BEGIN/COMMIT/ROLLBACK become savepoints), and the result's shape with
 * types looked up late.
 */
import type { PGlite, Results } from "@electric-sql/pglite";
import type { Row } from "../../core/types.js";
import type { QueryOptions, RawResult } from "../../driver/adapter.js";
import type { ResolvedDriverFeatures } from "../../driver/config.js";
import { encodeTextParams, type PgTypeParsers, reparse } from "../postgres-common/codecs.js";
import { rowsAffectedFor } from "../postgres-common/command-tag.js";
import { refuseCopyStdio } from "../postgres-common/copy-guard.js";
import { pgResultColumnTypes } from "../postgres-common/result-types.js";
import { holdsLock, type PgliteConnection } from "./connection.js";
import { cancelledBeforeStart, closedError, type PgliteRunner, refuseTimeout } from "./running.js";

/**
 * First keyword of a transaction-control statement, used only on a lease that shares its parent's transaction,
 * where BEGIN/COMMIT/ROLLBACK must become savepoint operations before they reach the engine.
 */
function txVerb(sql: string): "begin" | "end" | undefined {
  let i = 0;
  while (i < sql.length && sql.charCodeAt(i) <= 32) i++;
  const c = sql.charCodeAt(i) | 32;
  if (c !== 98 && c !== 115 && c !== 99 && c !== 114 && c !== 101 && c !== 97) return undefined; // b s c r e a
  const head = sql.slice(i, i + 20).toUpperCase();
  if (head.startsWith("BEGIN") || head.startsWith("START TRANSACTION")) return "begin";
  if (head.startsWith("COMMIT") || head.startsWith("END") || head.startsWith("ABORT")) return "end";
  if (
    head.startsWith("ROLLBACK") &&
    !/^ROLLBACK\s+(WORK\s+|TRANSACTION\s+)?TO\b/.test(head + sql.slice(i + 20, i + 40).toUpperCase())
  ) {
    return "end";
  }
  return undefined;
}

/** Runs statements on a lease. */
export class PgliteStatements {
  readonly #db: PGlite;
  readonly #runner: PgliteRunner;
  /** Parsers by OID, installed as the PGlite instance's own (user types are added once looked up). */
  readonly #types: PgTypeParsers;
  readonly #features: ResolvedDriverFeatures<PGlite>;
  #savepointSeq = 0;

  constructor(db: PGlite, runner: PgliteRunner, types: PgTypeParsers, features: ResolvedDriverFeatures<PGlite>) {
    this.#db = db;
    this.#runner = runner;
    this.#types = types;
    this.#features = features;
  }

  query(conn: PgliteConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    try {
      refuseCopyStdio(sql);
      refuseTimeout(opts);
    } catch (err) {
      return Promise.reject(err);
    }
    if (conn.parent !== undefined && holdsLock(conn.parent)) return this.#sharedQuery(conn, sql, params, opts);
    // Hot path: no signal to honour and the lock held already or free now, taken without a microtask. Each await
    // layer here cost an async frame and promises per statement (a few KB of garbage and ~15 µs on PGlite).
    if (
      opts.signal === undefined &&
      conn.wait.signal === undefined &&
      (conn.holdsLock || this.#runner.lock.tryAcquire())
    ) {
      conn.holdsLock = true;
      return this.#runner.tracked(conn, sql, this.#exec(sql, params, opts));
    }
    return this.#runner
      .take(conn, opts.signal)
      .then(() => this.#runner.tracked(conn, sql, this.#exec(sql, params, opts)));
  }

  /** A statement on a lease that shares its parent's transaction. */
  async #sharedQuery(conn: PgliteConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    if (opts.signal?.aborted) throw cancelledBeforeStart(opts.signal);
    // Inside another session's transaction: BEGIN/COMMIT/ROLLBACK become a savepoint of that transaction.
    const verb = txVerb(sql);
    if (verb === "begin") return this.#nestedBegin(conn);
    if (verb === "end") return this.#nestedEnd(conn, sql);
    return this.#runner.tracked(conn, sql, this.#exec(sql, params, opts));
  }

  /** Runs one statement; never throws synchronously (a bad parameter rejects, so #tracked still settles the state). */
  #exec(sql: string, params: unknown[], opts?: QueryOptions): Promise<RawResult> {
    if (this.#db.closed) return Promise.reject(closedError(undefined));
    let pending: Promise<Results<Row>>;
    try {
      pending = this.#db.query<Row>(
        sql,
        params.length ? encodeTextParams(params, this.#features.jsonSerializer) : params,
      );
    } catch (err) {
      return Promise.reject(err);
    }
    return pending.then((r) => this.#shape(r, opts));
  }

  #shape(r: Results<Row>, opts: QueryOptions | undefined): RawResult | Promise<RawResult> {
    const fields = r.fields;
    const columns = new Array<string>(fields.length);
    let late: [string, number][] | undefined;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i] as { name: string; dataTypeID: number };
      columns[i] = f.name;
      if (f.dataTypeID >= 10_000 && this.#types.unknown(f.dataTypeID)) {
        late ??= [];
        late.push([f.name, f.dataTypeID]);
      }
    }
    if (late !== undefined) return this.#lateTypes(r.rows, late).then(() => this.#raw(r, columns, opts));
    return this.#raw(r, columns, opts);
  }

  #raw(r: Results<Row>, columns: string[], opts: QueryOptions | undefined): RawResult {
    if (opts?.onColumnTypes !== undefined) {
      const oids = r.fields.map((f) => (f as { dataTypeID: number }).dataTypeID);
      opts.onColumnTypes(pgResultColumnTypes(oids, this.#features.timestamps));
    }
    const command = r.command;
    const raw: RawResult = {
      rows: r.rows,
      columns,
      rowsAffected: rowsAffectedFor(command, r.rowCount ?? r.affectedRows),
    };
    if (command !== undefined) raw.command = command;
    return raw;
  }

  /** Looks up types the parsers did not know yet (user enum/domain arrays) and converts this result's values. */
  async #lateTypes(rows: Row[], late: [string, number][]): Promise<void> {
    await this.#types.resolve(
      late.map((l) => l[1]),
      async (sql, params) => (await this.#db.query<Record<string, unknown>>(sql, params)).rows,
    );
    reparse(rows, late, this.#types);
  }

  async #nestedBegin(conn: PgliteConnection): Promise<RawResult> {
    const name = `sqlspec_nested_${++this.#savepointSeq}`;
    await this.#db.query(`SAVEPOINT ${name}`);
    conn.nestedTx.push(name);
    return { rows: [], columns: [], rowsAffected: 0, command: "BEGIN" };
  }

  /** COMMIT → RELEASE SAVEPOINT; ROLLBACK, or COMMIT of failed nested work → ROLLBACK TO (reported as "ROLLBACK"). */
  async #nestedEnd(conn: PgliteConnection, sql: string): Promise<RawResult> {
    const name = conn.nestedTx.pop();
    if (name === undefined) return this.#runner.tracked(conn, sql, this.#exec(sql, []));
    const rollback = /^\s*(ROLLBACK|ABORT)/i.test(sql) || this.#runner.engine.failed;
    if (rollback) {
      await this.#db.query(`ROLLBACK TO SAVEPOINT ${name}`);
      this.#runner.engine.failed = false;
    }
    await this.#db.query(`RELEASE SAVEPOINT ${name}`);
    return { rows: [], columns: [], rowsAffected: 0, command: rollback ? "ROLLBACK" : "COMMIT" };
  }
}
