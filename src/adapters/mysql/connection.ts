/**
 * One pooled mysql2 connection and the state sqlspec keeps for it, as the server reports it: the status flags of
 * every OK packet (SERVER_STATUS_IN_TRANS, SERVER_STATUS_AUTOCOMMIT, SERVER_SESSION_STATE_CHANGED).
 */
import type * as Mysql2 from "mysql2";
import { lex, TK_OP, TK_QIDENT, TK_WORD, type Token } from "../../core/lexer.js";
import type { PoolResource } from "../../driver/pool.js";
import type { OkPacket } from "./codecs.js";

export const STATUS_IN_TRANS = 0x0001;
export const STATUS_AUTOCOMMIT = 0x0002;
const STATUS_SESSION_STATE_CHANGED = 0x4000;

/** sqlspec's own transaction-ending statements (the only ones accepted while a transaction is failed). */
export const ENDS_TRANSACTION = /^\s*(COMMIT|ROLLBACK)\s*;?\s*$/i;

/** One pooled connection plus the state sqlspec keeps for it. */
/** A pooled MySQL/MariaDB connection and what sqlspec tracks for it. */
export class MysqlConnection implements PoolResource {
  /** @internal Set when the connection failed: it is discarded on release. */
  broken = false;
  /** @internal When the connection was opened (ms since the epoch), for `maxLifetimeMs`. */
  readonly createdAt = Date.now();
  /** @internal Server status flags (SERVER_STATUS_IN_TRANS, SERVER_STATUS_AUTOCOMMIT, …) after the last statement. */
  status = STATUS_AUTOCOMMIT;
  /**
   * @internal
   * The server rolled back the open transaction because a statement in it failed (a deadlock, a lock wait timeout
   * with innodb_rollback_on_timeout, …). Until COMMIT/ROLLBACK, statements are refused rather than autocommitted.
   */
  failed = false;
  /** @internal Session state changed since the connection was set up (`SET`, `USE`, …), as the server reported it. */
  stateChanged = false;
  /**
   * @internal The session sql_mode the connection started with: the handshake's client flags add to the global
   * default (mysql2 asks for IGNORE_SPACE), and COM_RESET_CONNECTION falls back to the global one.
   */
  initialSqlMode = "";
  /** @internal Row streams open on the connection (it is busy until they end). */
  openStreams = 0;
  /** @internal A KILL QUERY in flight against this connection: nothing else runs on it until it has settled. */
  pendingCancel: Promise<void> | undefined;

  /** @internal Made by the adapter's pool. */
  constructor(
    /** The mysql2 connection (callback API); use it for anything sqlspec does not wrap. */
    readonly client: Mysql2.Connection,
    /** The server's thread (connection) id: the target of KILL QUERY. */
    readonly threadId: number,
  ) {}

  /** @internal Status flags from an OK packet; a COMMIT/ROLLBACK also ends a failed transaction. */
  track(ok: OkPacket, sql: string): void {
    const s = ok.serverStatus;
    if (s === undefined) return;
    this.status = s;
    if ((s & STATUS_SESSION_STATE_CHANGED) !== 0) this.stateChanged = true;
    if (this.failed && ENDS_TRANSACTION.test(sql)) this.failed = false;
  }

  /**
   * @internal Session state the server does not flag in session_track_state_change (MariaDB: `@v := …`,
   * `… INTO @v` and a GET_LOCK lock; COM_RESET_CONNECTION clears all three): read from the statement's tokens, so text
   * in strings and comments does not count.
   */
  noteStatement(sql: string): void {
    if (this.stateChanged) return;
    if (!sql.includes("@") && !GET_LOCK.test(sql)) return;
    const tokens = lex(sql, "mysql");
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i] as Token;
      const isLock = t.kind === TK_WORD && GET_LOCK_WORD.test(sql.slice(t.start, t.end));
      if (isLock || (t.kind === TK_OP && sql.slice(t.start, t.end) === "@" && isUserVariableWrite(sql, tokens, i))) {
        this.stateChanged = true;
        return;
      }
    }
  }

  /** @internal Rows read with autocommit off open a transaction (InnoDB starts one on the first read). */
  afterRows(): void {
    if ((this.status & STATUS_AUTOCOMMIT) === 0) this.status |= STATUS_IN_TRANS;
  }

  /** @internal Closes the connection; the pool calls it. */
  destroy(): void {
    this.broken = true;
    this.client.destroy();
  }
}

const GET_LOCK = /get_lock/i;
const GET_LOCK_WORD = /^get_lock$/i;

/** `@name :=` (an assignment anywhere in a statement) or `INTO @name` / `INTO …, @name` (SELECT … INTO). */
function isUserVariableWrite(sql: string, tokens: Token[], at: number): boolean {
  const text = (k: number): string => {
    const t = tokens[k];
    return t === undefined ? "" : sql.slice(t.start, t.end);
  };
  // `@name` then `:=` (the MySQL lexer may emit it as `:` and `=`).
  const afterName = tokens[at + 1]?.kind === TK_WORD || tokens[at + 1]?.kind === TK_QIDENT ? at + 2 : at + 1;
  const op = text(afterName) + text(afterName + 1);
  if (op.startsWith(":=")) return true;
  // Walk back over `@a, @b,` to the INTO that starts the target list.
  let k = at - 1;
  while (k >= 0) {
    const prev = text(k);
    if (/^into$/i.test(prev)) return true;
    if (prev === ",") {
      k -= 1;
      continue;
    }
    const t = tokens[k] as Token;
    // A previous target `@name`: step over its name and its `@`.
    if ((t.kind === TK_WORD || t.kind === TK_QIDENT) && text(k - 1) === "@") {
      k -= 2;
      continue;
    }
    return false;
  }
  return false;
}

export interface Outcome {
  result: unknown;
  fields: unknown;
}

/** One statement: prepared (execute) when it has values, text protocol otherwise. */
export function run(client: Mysql2.Connection, sql: string, values: unknown[] | undefined): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    const cb = (err: unknown, result: unknown, fields: unknown): void => {
      if (err) reject(err);
      else resolve({ result, fields });
    };
    if (values !== undefined) client.execute(sql, values as never, cb as never);
    else client.query(sql, cb as never);
  });
}
