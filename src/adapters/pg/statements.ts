/**
 * One statement on node-postgres: the hot path (a repeated parameterised statement: one Map lookup for the named
 * statement, a `pg.Query` built from the text, rows parsed once by pg with the pool's parsers, the column-name array
 * reused from the statement's first execution), the named-statement cache kept true to the server (evictions closed,
 * stale statements forgotten, one retry when what an earlier call fixed went stale), and what a statement changed.
 */
import type * as PgModule from "pg";
import type { QueryOptions, RawResult } from "../../driver/adapter.js";
import { NEEDS_TYPES } from "../postgres-common/codecs.js";
import { changesSchema, rowsAffectedFor } from "../postgres-common/command-tag.js";
import { refuseCopyStdio } from "../postgres-common/copy-guard.js";
import { cancelledBeforeSent, isStaleStatementError } from "../postgres-common/errors.js";
import { statementChangesSettings } from "../postgres-common/session-state.js";
import type { PreparedStatement, StatementCache } from "../postgres-common/statement-cache.js";
import {
  brokenError,
  fieldNames,
  type PgClient,
  type PgConnection,
  type PgQuery,
  type PgResult,
  runQuery,
  sendProtocol,
} from "./connection.js";
import { passTurn, queryError, statementRun } from "./running.js";
import type { StatementRun } from "./turns.js";
import type { PgTypes } from "./types.js";

export const EMPTY: string[] = [];

export class PgStatements {
  readonly #Query: typeof PgModule.Query;
  readonly #types: PgTypes;

  constructor(Query: typeof PgModule.Query, types: PgTypes) {
    this.#Query = Query;
    this.#types = types;
  }

  async query(conn: PgConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    const client = conn.client as PgClient;
    if (conn.broken) throw brokenError(conn);
    refuseCopyStdio(sql);
    if (opts.signal?.aborted) throw cancelledBeforeSent(opts.signal);
    const types = this.#types;
    let values: unknown[] | undefined = params.length > 0 ? types.encode(params, undefined) : undefined;
    const run = opts.signal !== undefined || opts.timeoutMs !== undefined ? statementRun(conn, opts) : undefined;
    // The connection's turn: taken at once when no statement of the session runs (no promise), else queued (FIFO).
    const waiting = conn.turns.take(run);
    let turn = waiting === undefined;
    try {
      if (!turn) {
        await waiting;
        turn = true;
        if (conn.broken) throw brokenError(conn);
      }
      /** The parameter types came from the per-pool cache (described by an earlier call, maybe before some DDL). */
      let cachedTypes = false;
      if (values === NEEDS_TYPES) {
        cachedTypes = types.describedBefore(sql);
        values = types.encode(params, await types.describeParams(client, sql));
      }
      const cache = conn.statements;
      const status = client.getTransactionStatus();
      let stmt: PreparedStatement | undefined;
      if (cache !== undefined && values !== undefined && opts.prepare !== false && status !== "E") {
        stmt = cache.get(sql);
        if (cache.evicted.length > 0) await deallocate(client, cache);
      }
      // Prepared by an earlier call: its plan and parameter types were fixed before any DDL since.
      const reused = stmt !== undefined && client.connection.parsedStatements[stmt.name] !== undefined;
      let res: PgResult;
      try {
        res = await this.#execute(client, sql, values, stmt, run);
      } catch (err) {
        const stale = forgetStale(conn, types, sql, stmt, cachedTypes, err);
        // Retried once, re-described and unnamed, when the server may have rejected what an earlier call fixed (the
        // plan, the parameter types, the statement itself) and no transaction was open (inside one it is aborted).
        if (!stale || !(reused || cachedTypes) || status !== "I" || conn.broken || run?.kind !== undefined) {
          throw queryError(conn, err, run?.kind);
        }
        try {
          if (cachedTypes) values = types.encode(params, await types.describeParams(client, sql));
          res = await this.#execute(client, sql, values, undefined, run);
        } catch (err2) {
          forgetStale(conn, types, sql, undefined, true, err2);
          throw queryError(conn, err2, run?.kind);
        }
        stmt = undefined;
      }
      let columns: string[];
      if (stmt !== undefined) {
        columns = stmt.columns ??= fieldNames(res.fields);
      } else {
        columns = res.fields.length === 0 ? EMPTY : fieldNames(res.fields);
      }
      const command = res.command ?? "";
      noteCommand(conn, types, command, sql, opts.tempStage === true);
      // A result carrying a type the table has not seen yet (a user enum/domain array, a catalog row type).
      if (types.hasUnknown(res.fields)) await types.resolve(client, res);
      if (opts.onColumnTypes !== undefined) opts.onColumnTypes(types.columnTypes(res.fields));
      return { rows: res.rows, columns, rowsAffected: rowsAffectedFor(command, res.rowCount), command };
    } finally {
      // A cancel sent for this statement is resolved before the next statement gets the connection.
      if (run !== undefined && !(await run.finish())) conn.broken = true;
      if (turn) passTurn(conn);
    }
  }

  #execute(
    client: PgClient,
    sql: string,
    values: unknown[] | undefined,
    stmt: PreparedStatement | undefined,
    run: StatementRun | undefined,
  ): Promise<PgResult> {
    // A pg.Query built from the text skips client.query's config clone and its extra promise.
    const q = new this.#Query(sql, values) as PgQuery;
    if (stmt !== undefined) q.name = stmt.name;
    // Without values node-postgres would use the simple protocol, which runs `…; DROP …` stacked behind a statement.
    else if (values === undefined) (q as { queryMode?: string }).queryMode = "extended";
    if (run === undefined) return runQuery(client, q);
    try {
      run.check();
    } catch (err) {
      return Promise.reject(err);
    }
    run.submitted = q;
    return runQuery(client, q);
  }
}

/** What a completed statement changed on the connection: settings, or the server's prepared statements. */
export function noteCommand(conn: PgConnection, types: PgTypes, command: string, sql: string, tempStage = false): void {
  if (command === "DISCARD" || command === "DEALLOCATE") {
    // node-postgres keeps only the tag's first word: assume every statement is gone (a re-Parse is cheap).
    forgetStatements(conn);
    if (command === "DISCARD") conn.settingsChanged = true;
  } else if (!tempStage && changesSchema(command)) {
    // Statements prepared before it keep the old types: close them lazily (next use), and describe texts again.
    conn.statements?.evictAll();
    types.forgetParams();
  } else if (!conn.settingsChanged && statementChangesSettings(command, sql)) {
    conn.settingsChanged = true;
  }
}

/** The server dropped every prepared statement (DISCARD ALL / DEALLOCATE ALL): so do pg and our cache. */
export function forgetStatements(conn: PgConnection): void {
  conn.statements?.clear();
  const parsed = (conn.client as PgClient).connection.parsedStatements;
  for (const name of Object.keys(parsed)) delete parsed[name];
}

/**
 * After a failed statement: a named statement the server rejected is forgotten (closed on the server later, or at
 * once gone when the server says it does not exist: then every statement of the connection is, as after DEALLOCATE
 * ALL or behind a pooler), and cached parameter types are dropped. Returns whether the error can mean that
 * something an earlier call fixed went stale.
 */
export function forgetStale(
  conn: PgConnection,
  types: PgTypes,
  sql: string,
  stmt: PreparedStatement | undefined,
  cachedTypes: boolean,
  err: unknown,
): boolean {
  const code = (err as { code?: unknown }).code;
  const stale = isStaleStatementError(err);
  if (stale && cachedTypes) types.forgetParams(sql);
  if (stmt === undefined) return stale;
  const client = conn.client as PgClient;
  if (code === "26000") {
    forgetStatements(conn);
    return true;
  }
  // A failed Parse leaves no server statement; a stale one exists and is closed with the next evictions.
  if (stale || client.connection.parsedStatements[stmt.name] === undefined) {
    conn.statements?.delete(sql);
    if (client.connection.parsedStatements[stmt.name] !== undefined) conn.statements?.evicted.push(stmt.name);
  }
  return stale;
}

/**
 * Closes evicted statements on the server (protocol Close + Sync: one round trip, only when the LRU overflows or a
 * statement went stale). Closing a statement that no longer exists is not an error, so this never fails a
 * transaction.
 */
export async function deallocate(client: PgClient, cache: StatementCache): Promise<void> {
  const names = cache.evicted;
  cache.evicted = [];
  const parsed = client.connection.parsedStatements;
  const closing: string[] = [];
  for (const n of names) {
    if (parsed[n] === undefined) continue;
    delete parsed[n];
    closing.push(n);
  }
  if (closing.length === 0) return;
  await sendProtocol(client, (connection) => {
    for (const name of closing) connection.close({ type: "S", name });
  });
}
