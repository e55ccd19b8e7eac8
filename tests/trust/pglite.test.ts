import { PgliteConfig, type PgliteConnection } from "../../src/adapters/pglite/index.js";
import { runTrustTests } from "./suite.js";

// One PGlite database for the whole file: every config made here shares it, as sessions of one process would.
let shared: PgliteConfig | undefined;

runTrustTests({
  name: "pglite",
  interrupts: false,
  make: () => {
    shared ??= new PgliteConfig({ driverFeatures: { enablePgvector: false } });
    return shared;
  },
  raw: (s, sql) => (s.conn as PgliteConnection).db.query(sql),
});
