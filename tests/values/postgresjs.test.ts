import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { PG_URL } from "../support/servers.js";
import { runValueTests } from "./suite.js";

runValueTests(
  "postgresjs",
  (driverFeatures) =>
    new PostgresJsConfig({
      poolConfig: { connectionString: PG_URL, maxSize: 2 },
      ...(driverFeatures ? { driverFeatures } : {}),
    }),
);
