import { PgConfig, type PgConnection } from "../../src/adapters/pg/index.js";
import { PG_URL } from "../support/servers.js";
import { runBulkTrustTests } from "./bulk.js";
import { runCopyTrustTests } from "./copy.js";
import { runTrustTests, type TrustTarget } from "./suite.js";
import { runUnawaitedTrustTests } from "./unawaited.js";

const target: TrustTarget = {
  name: "pg",
  interrupts: true,
  make: (o = {}) =>
    new PgConfig({
      poolConfig: { connectionString: PG_URL, maxSize: o.maxSize ?? 2 },
      ...(o.statementCacheSize !== undefined ? { statementConfig: { statementCacheSize: o.statementCacheSize } } : {}),
    }),
  raw: (s, sql) => (s.conn as PgConnection).client.query(sql),
};

runTrustTests(target);
runBulkTrustTests(target);
runCopyTrustTests(target);
runUnawaitedTrustTests(target);
