import { PostgresJsConfig, type PostgresJsConnection } from "../../src/adapters/postgresjs/index.js";
import { PG_URL } from "../support/servers.js";
import { runBulkTrustTests } from "./bulk.js";
import { runCopyTrustTests } from "./copy.js";
import { runTrustTests, type TrustTarget } from "./suite.js";
import { runUnawaitedTrustTests } from "./unawaited.js";

const target: TrustTarget = {
  name: "postgresjs",
  interrupts: true,
  make: (o = {}) =>
    new PostgresJsConfig({
      poolConfig: { connectionString: PG_URL, maxSize: o.maxSize ?? 2 },
      ...(o.statementCacheSize !== undefined ? { statementConfig: { statementCacheSize: o.statementCacheSize } } : {}),
    }),
  raw: (s, sql) => (s.conn as PostgresJsConnection).sql.unsafe(sql),
};

runTrustTests(target);
runBulkTrustTests(target);
runCopyTrustTests(target);
runUnawaitedTrustTests(target);
