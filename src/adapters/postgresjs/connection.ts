/**
 * One pooled postgres.js connection (a single-connection `sql`) with the state sqlspec keeps for it, the shapes of
 * postgres.js's results, and the helpers that read them.
 */
import type { Readable, Writable } from "node:stream";
import type * as PostgresNs from "postgres";
import type { Row } from "../../core/types.js";
import type { ConnectionState, RawResult, TransactionStatus } from "../../driver/adapter.js";
import type { Parser } from "../postgres-common/codecs.js";
import { rowsAffectedFor } from "../postgres-common/command-tag.js";
import { type SessionSettings, transactionStatusOf } from "../postgres-common/session-state.js";
import type { WireObserver } from "./wire.js";

/** A postgres.js `sql` function (the driver's connection type here). */
export type PostgresSql = PostgresNs.Sql<Record<string, PostgresNs.PostgresType>>;

export interface PjsColumn {
  name: string;
  type: number;
  parser?: Parser;
}
export interface PjsResult extends Array<Row> {
  count: number | null;
  command: string | null;
  columns: (PjsColumn[] & { [NAMES]?: string[] }) | null;
}
export interface PjsQuery extends Promise<PjsResult> {
  cancel(): void;
  cursor(rows: number): AsyncIterable<PjsResult>;
  writable(): Promise<Writable>;
  readable(): Promise<Readable>;
}
export interface Unsafe {
  unsafe(text: string, params?: unknown[], opts?: { prepare?: boolean; simple?: boolean }): PjsQuery;
}

const NAMES = Symbol("sqlspec.columnNames");
const EMPTY: string[] = [];

/** One pooled connection: a single-connection postgres.js instance plus sqlspec's state for it. */
export class PostgresJsConnection implements ConnectionState {
  /**
   * @internal Statement texts postgres.js has prepared here (bounded by statementCacheSize; later ones run unnamed).
   */
  readonly prepared = new Set<string>();
  /** @internal Characters of SQL text in `prepared`. */
  preparedBytes = 0;
  /** @internal Set when the socket failed: the connection is discarded on release. */
  broken = false;
  /** Driver cursors open on this connection (see stream()): the connection belongs to the portal meanwhile. */
  openCursors = 0;
  /** @internal When the connection was opened (ms since the epoch), for `maxLifetimeMs`. */
  readonly createdAt = Date.now();
  /** @internal Closes the connection after `idleTimeoutMs` in the pool. */
  idleTimer: NodeJS.Timeout | undefined;
  /** @internal A SET/RESET ran through this connection since its last reset. */
  settingsSet = false;
  /**
   * @internal
   * A prepared statement went stale (DDL changed its table, or the server dropped it). postgres.js keeps its own
   * statement cache that cannot drop one entry, so this connection prepares nothing more and is discarded on release.
   */
  staleStatements = false;
  /** @internal What onConnectionCreate set (restored after a reset). */
  baseline: SessionSettings | undefined;
  /** @internal One-shot statements running on this connection (see acquireShared); 0 when a session holds it. */
  sharedInFlight = 0;
  /** @internal A one-shot statement left state behind (it should not have): no more join; reset once drained. */
  shareClosed = false;

  /** @internal Made by the adapter when it opens a connection. */
  constructor(
    /** The postgres.js `sql` bound to this one connection. */
    readonly sql: PostgresSql,
    /** @internal The server's messages as they arrive: transaction status, backend key, COPY and parameter changes. */
    readonly wire: WireObserver,
  ) {}

  get transaction(): TransactionStatus {
    return transactionStatusOf(this.wire.status);
  }

  get preparedStatements(): number {
    return this.prepared.size;
  }

  get settingsChanged(): boolean {
    return this.settingsSet || this.wire.parameterChanged;
  }
}

/** postgres.js's parser and serializer tables of one `sql` (by type OID). */
export function codecsOf(sql: PostgresSql): {
  parsers: Record<number, Parser>;
  serializers: Record<number, (x: unknown) => string>;
} {
  return sql.options as unknown as {
    parsers: Record<number, Parser>;
    serializers: Record<number, (x: unknown) => string>;
  };
}

/**
 * postgres.js counts the rows of the current result per connection and resets the count on CommandComplete only, not
 * on an error (porsager/postgres#1119, open): after a statement fails with some rows already received, the next
 * result on that connection, possibly another caller's pipelined statement, puts its rows after that many empty
 * slots. A row is never undefined, so leading empty slots are always that stale count: they are dropped in place.
 */
export function withoutStaleSlots(res: PjsResult): PjsResult {
  const n = res.length;
  if (n === 0 || res[0] !== undefined) return res;
  let first = 1;
  while (first < n && res[first] === undefined) first++;
  res.copyWithin(0, first);
  res.length = n - first;
  return res;
}

/** An internal statement (catalog lookups, reset): unprepared, its rows exact. */
export function unprepared(conn: PostgresJsConnection, text: string, params: unknown[]): Promise<PjsResult> {
  return (conn.sql as unknown as Unsafe).unsafe(text, params, { prepare: false }).then(withoutStaleSlots);
}

export function toRaw(res: PjsResult): RawResult {
  withoutStaleSlots(res);
  const cols = res.columns;
  let columns = EMPTY;
  if (cols && cols.length > 0) {
    // postgres.js reuses a prepared statement's column array, so the names are computed once per statement.
    columns = cols[NAMES] ??= cols.map((c) => c.name);
  }
  // The tag's verb, as pg reports it: postgres.js keeps "CREATE TABLE", "DROP INDEX" whole.
  const tag = res.command ?? "";
  const space = tag.indexOf(" ");
  const command = space < 0 ? tag : tag.slice(0, space);
  return { rows: res, columns, rowsAffected: rowsAffectedFor(command, res.count), command };
}

/** A multi-statement simple query answers with a plain array of results; the last one is the answer. */
export function lastOf(res: PjsResult): PjsResult {
  const all = res as unknown as PjsResult[];
  return all[all.length - 1] as PjsResult;
}
