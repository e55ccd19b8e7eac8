/**
 * Per-connection session state shared by the PostgreSQL adapters: what a command tag says changed, and the reset
 * that release runs (roll back, restore settings) before a connection goes back to the pool.
 */

import { quoteIdent } from "../../core/identifiers.js";
import { quotedIdentifierName, scan, TK_QIDENT, TK_WORD, TokenBuffer } from "../../core/lexer.js";
import type { ConnectionState, TransactionStatus } from "../../driver/adapter.js";
import type { ResetOnRelease } from "../../driver/config.js";

/** ReadyForQuery's status byte → the contract's status. */
export function transactionStatusOf(byte: string | number | undefined): TransactionStatus {
  switch (byte) {
    case "T":
    case 84:
      return "active";
    case "E":
    case 69:
      return "failed";
    default:
      return "idle";
  }
}

/** A setting changed by this statement (anything but `SET LOCAL`, which ends with its transaction). */
export function changesSettings(command: string, sql: string): boolean {
  if (command === "RESET") return true;
  if (command !== "SET") return false;
  return !/^\s*SET\s+LOCAL\b/i.test(sql);
}

/**
 * Cheap pre-filter (one regex test, no allocation): only a text containing the name, or a `U&"…"` identifier that
 * may spell it with escapes (`U&"\0073et_config"`), can call set_config().
 */
const MENTIONS_SET_CONFIG = /set_config|u&"/i;

/**
 * The statement calls `set_config()` (a setting changed under a SELECT tag): the name as an identifier (a word, a
 * quoted or a `U&"…"` identifier, escapes decoded), not inside a string or a comment. A call inside a DO block or a
 * function body is not seen (resetOnRelease: true covers it).
 */
export function callsSetConfig(sql: string): boolean {
  if (!MENTIONS_SET_CONFIG.test(sql)) return false;
  const buf = new TokenBuffer();
  scan(buf, sql, "postgres", undefined);
  for (let k = 0; k < buf.count; k++) {
    const kind = buf.kind[k];
    if (kind === TK_WORD && buf.isWord(sql, k, "SET_CONFIG")) return true;
    if (kind === TK_QIDENT && quotedIdentifierName(buf, sql, k) === "set_config") return true;
  }
  return false;
}

/** A statement that ran without error changed a session setting: SET/RESET (not LOCAL), or a set_config() call. */
export function statementChangesSettings(command: string, sql: string): boolean {
  if (command === "SET" || command === "RESET") return changesSettings(command, sql);
  return callsSetConfig(sql);
}

/** The tag says every prepared statement on the connection is gone ("DISCARD ALL", "DEALLOCATE ALL"). */
export function dropsPreparedStatements(command: string): boolean {
  return command === "DISCARD ALL" || command === "DEALLOCATE ALL" || command === "DISCARD PLANS";
}

/** Settings `onConnectionCreate` made (source = session), restored after a reset. */
export const SESSION_SETTINGS_SQL = "SELECT name, setting FROM pg_catalog.pg_settings WHERE source = 'session'";
const RESTORE_SQL = "SELECT pg_catalog.set_config(n, v, false) FROM unnest($1::text[], $2::text[]) AS s(n, v)";

export interface SessionSettings {
  names: string[];
  values: string[];
}

export function sessionSettingsOf(rows: readonly Record<string, unknown>[]): SessionSettings | undefined {
  if (rows.length === 0) return undefined;
  return { names: rows.map((r) => String(r.name)), values: rows.map((r) => String(r.setting)) };
}

export interface ResetOps {
  readonly state: ConnectionState;
  /** Runs one statement on the connection (no statement cache); without params, possibly several (simple query). */
  run(sql: string, params?: unknown[]): Promise<unknown>;
  /** Who a reset makes the session user again; default: the authenticated user (`SET SESSION AUTHORIZATION DEFAULT`). */
  readonly sessionUser?: string;
  /** Called after `DISCARD ALL`: the server dropped every prepared statement. */
  forgetPreparedStatements(): void;
  /** Called once settings are back to the connection's baseline. */
  settingsRestored(): void;
}

/**
 * Leaves the connection idle with the pool's settings, or reports that it cannot (the caller discards it).
 * Open cursors/streams must have been closed by the caller; one still open means the connection is busy: discard.
 */
export async function resetPostgresConnection(
  ops: ResetOps,
  mode: ResetOnRelease,
  baseline: SessionSettings | undefined,
): Promise<boolean> {
  try {
    if (ops.state.openCursors > 0) return false;
    if (ops.state.transaction !== "idle") await ops.run("ROLLBACK");
    if (ops.state.transaction !== "idle") return false;
    if (mode === true) {
      await ops.run("DISCARD ALL");
      ops.forgetPreparedStatements();
    } else if (mode === "auto" && ops.state.settingsChanged) {
      // RESET ALL leaves the role and the session user alone: a SET ROLE would outlive the session.
      const who = ops.sessionUser === undefined ? "DEFAULT" : quoteIdent(ops.sessionUser, "postgres");
      await ops.run(`SET SESSION AUTHORIZATION ${who}; RESET ROLE; RESET ALL`);
    } else {
      return true;
    }
    if (baseline !== undefined) await ops.run(RESTORE_SQL, [baseline.names, baseline.values]);
    ops.settingsRestored();
    return ops.state.transaction === "idle";
  } catch {
    return false;
  }
}
