import { PgliteConfig, type PgliteConnection } from "../../src/adapters/pglite/index.js";
import { runBulkTrustTests } from "./bulk.js";
import { runCopyTrustTests } from "./copy.js";
import { runTrustTests, type TrustTarget } from "./suite.js";
import { runUnawaitedTrustTests } from "./unawaited.js";

/**
 * One PGlite database per suite: every config a suite makes shares it, as sessions of one process would (each suite
 * closes what it made when it ends).
 */
function target(): TrustTarget {
  let shared: PgliteConfig | undefined;
  return {
    name: "pglite",
    interrupts: false,
    make: () => {
      shared ??= new PgliteConfig({ driverFeatures: { enablePgvector: false } });
      return shared;
    },
    raw: (s, sql) => (s.conn as PgliteConnection).db.query(sql),
  };
}

runTrustTests(target());
runBulkTrustTests(target());
runCopyTrustTests(target());
runUnawaitedTrustTests(target());
