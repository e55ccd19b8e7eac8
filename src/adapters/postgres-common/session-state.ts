/**
 * Per-connection session state shared by the PostgreSQL adapters: what a command tag says changed, and the reset
 * that release runs (roll back, restore settings) before a connection goes back to the pool.
 */
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
  /** Runs one statement on the connection (no statement cache). */
  run(sql: string, params?: unknown[]): Promise<unknown>;
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
      await ops.run("RESET ALL");
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
