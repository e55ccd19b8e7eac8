/**
 * One pooled node-postgres client with the state sqlspec keeps for it, the node-postgres internals sqlspec relies on
 * (stable across pg 8.x), and the helpers that wait for the client's answers.
 */
import type * as PgModule from "pg";
import type { SQLSpecError } from "../../core/errors.js";
import type { Row } from "../../core/types.js";
import type { ConnectionState, TransactionStatus } from "../../driver/adapter.js";
import { lostConnectionError, type ServerFatal } from "../postgres-common/errors.js";
import { type SessionSettings, transactionStatusOf } from "../postgres-common/session-state.js";
import { StatementCache } from "../postgres-common/statement-cache.js";
import { Turns } from "./turns.js";

export type PgClient = PgModule.PoolClient & PgClientInternals;

/** node-postgres internals we rely on (stable across pg 8.x). */
export interface PgClientInternals {
  processID: number | null;
  secretKey: number | null;
  host: string;
  port: number;
  _queryable: boolean;
  /** False from sending a query until its ReadyForQuery arrives. */
  readyForQuery: boolean;
  /** The query the server is answering (pg ≥ 8.12 has the getter; older versions only the field). */
  _getActiveQuery?: () => unknown;
  _activeQuery?: unknown;
  _queryQueue?: unknown[];
  getTransactionStatus(): string | null;
  _ending: boolean;
  connection: {
    parsedStatements: Record<string, string>;
    submittedNamedStatements: Record<string, string>;
    stream: { cork?: () => void; uncork?: () => void };
    bind(b: { portal: string; statement: string; values: unknown[] }): void;
    execute(e: { portal: string; rows: number }): void;
    once(event: string, fn: (msg: unknown) => void): void;
    on(event: string, fn: (msg: unknown) => void): void;
    removeListener(event: string, fn: (msg: unknown) => void): void;
    parse(q: { text: string; name: string; types: number[] }): void;
    describe(q: { type: "S" | "P"; name: string }): void;
    close(q: { type: "S" | "P"; name: string }): void;
    sync(): void;
  };
}

export type PgQuery = PgModule.Query & {
  name?: string;
  callback?: (err: Error | undefined, res: PgResult | PgResult[]) => void;
};

export interface PgField {
  name: string;
  dataTypeID: number;
}

export interface PgResult {
  command: string | null;
  rowCount: number | null;
  rows: Row[];
  fields: PgField[];
}

/** One pooled connection plus the state sqlspec keeps for it (its ConnectionState, read from the protocol). */
export class PgConnection implements ConnectionState {
  /** @internal Named prepared statements on this connection (undefined when statementCacheSize is 0). */
  readonly statements: StatementCache | undefined;
  /** @internal Set when the socket failed: the connection is discarded on release. */
  broken = false;
  /** @internal The FATAL error the server sent as it closed the connection (57P01 from pg_terminate_backend). */
  closedBy: ServerFatal | undefined = undefined;
  settingsChanged = false;
  /** pg has no driver cursor here: streams use the session's DECLARE/FETCH, which the transaction owns. */
  readonly openCursors = 0;
  /** @internal What onConnectionCreate set (restored after a reset). */
  baseline: SessionSettings | undefined;
  /** @internal The session's statements, one at a time (node-postgres must not be handed a query while busy). */
  readonly turns = new Turns();

  /** @internal Made by the adapter when it acquires a client. */
  constructor(
    /** The node-postgres client; use it for anything sqlspec does not wrap. */
    readonly client: PgModule.PoolClient,
    cacheSize: number,
    cacheBytes: number,
  ) {
    this.statements = cacheSize > 0 ? new StatementCache(cacheSize, cacheBytes) : undefined;
  }

  /** ReadyForQuery's status byte as node-postgres last received it. */
  get transaction(): TransactionStatus {
    return transactionStatusOf((this.client as PgClient).getTransactionStatus() ?? undefined);
  }

  /** Named prepared statements cached on this connection. */
  get preparedStatements(): number {
    return this.statements?.size ?? 0;
  }
}

export function fieldNames(fields: { name: string }[]): string[] {
  const out = new Array<string>(fields.length);
  for (let i = 0; i < fields.length; i++) out[i] = (fields[i] as { name: string }).name;
  return out;
}

/**
 * node-postgres calls a query back on ErrorResponse, before the server's ReadyForQuery (often a separate packet)
 * has updated the transaction status. A failed statement settles only once that status is current: otherwise the
 * session would see "active" after a COMMIT the server refused and rolled back, or "active" for an aborted
 * transaction. Resolves at once when nothing is outstanding, and when the connection ends instead.
 */
export function untilReady(client: PgClient): Promise<void> {
  if (client.readyForQuery || !client._queryable || client._ending) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const con = client.connection;
    const done = (): void => {
      con.removeListener("readyForQuery", done);
      con.removeListener("end", done);
      con.removeListener("error", done);
      resolve();
    };
    con.on("readyForQuery", done);
    con.on("end", done);
    con.on("error", done);
  });
}

/** untilReady, unless the connection was marked broken (then it is discarded on release; nothing to wait for). */
export function untilReadyOrBroken(client: PgClient, conn: PgConnection): Promise<void> {
  return conn.broken ? Promise.resolve() : untilReady(client);
}

export function runQuery(client: PgClient, q: PgQuery): Promise<PgResult> {
  return new Promise<PgResult>((resolve, reject) => {
    q.callback = (err: Error | undefined, res: PgResult | PgResult[]) => {
      if (err) void untilReady(client).then(() => reject(err));
      // A multi-statement simple query yields one result per statement; the last one is the answer.
      else resolve(Array.isArray(res) ? (res[res.length - 1] as PgResult) : res);
    };
    client.query(q as unknown as PgModule.Submittable);
  });
}

export function brokenError(conn: PgConnection): SQLSpecError {
  return lostConnectionError(conn.closedBy);
}

/**
 * Runs raw protocol messages on a client in its query queue (node-postgres has no API for Close or a bare Describe):
 * `write` sends them (corked, followed by Sync); the promise settles at the ReadyForQuery after them, rejecting with
 * the server's error. Rows and other answers in between are ignored.
 */
export function sendProtocol(
  client: PgClient,
  write: (connection: PgClientInternals["connection"]) => void,
  onError: (err: unknown, reject: (err: unknown) => void) => void = (err, reject) => reject(err),
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const noop = (): void => {};
    const submittable = {
      submit(connection: PgClientInternals["connection"]): void {
        connection.stream.cork?.();
        write(connection);
        connection.sync();
        connection.stream.uncork?.();
      },
      handleRowDescription: noop,
      handleDataRow: noop,
      handleCommandComplete: noop,
      handleEmptyQuery: noop,
      handlePortalSuspended: noop,
      handleCopyInResponse: noop,
      handleCopyData: noop,
      handleError: (err: unknown) => onError(err, reject),
      handleReadyForQuery: () => resolve(),
    };
    client.query(submittable as unknown as PgModule.Submittable);
  });
}
