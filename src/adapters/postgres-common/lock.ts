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
