import type { NamedLockSql } from "../../driver/adapter.js";

/**
 * Session-level advisory lock keyed by the first 64 bits of the name's md5 (advisory keys are per database). Polled
 * with the `try` form so a waiting runner never holds a transaction open (CREATE INDEX CONCURRENTLY would wait on it).
 */
const KEY = "('x' || substr(md5($1), 1, 16))::bit(64)::bigint";

export const POSTGRES_NAMED_LOCK: NamedLockSql = {
  tryAcquire: `SELECT pg_try_advisory_lock(${KEY})`,
  release: `SELECT pg_advisory_unlock(${KEY})`,
};

/**
 * For servers: the backend polls its client socket every second while a statement runs (PostgreSQL 14+, Linux), so
 * a runner killed during `SELECT pg_sleep(…)` or a long CREATE INDEX loses the lock within a second. Plain SET so the
 * session's state tracking sees the change and the release restores it.
 */
export const POSTGRES_SERVER_NAMED_LOCK: NamedLockSql = {
  ...POSTGRES_NAMED_LOCK,
  watchHolder: "SET client_connection_check_interval = 1000",
};
