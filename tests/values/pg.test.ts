import { PgConfig } from "../../src/adapters/pg/index.js";
import { PG_URL } from "../support/servers.js";
import { runValueTests } from "./suite.js";

runValueTests(
  "pg",
  (driverFeatures) =>
    new PgConfig({
      poolConfig: { connectionString: PG_URL, maxSize: 2 },
      ...(driverFeatures ? { driverFeatures } : {}),
    }),
);
