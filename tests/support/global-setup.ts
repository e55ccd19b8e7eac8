/**
 * Vitest global setup: a folder for this run's shared fixtures (the initdb'd PGlite data directory of
 * ./pglite-initdb.ts), removed when the run ends.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "sqlspec-test-run-"));
  // Read by the workers, which inherit this process's environment.
  process.env.SQLSPEC_TEST_PGLITE_INITDB_DIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
