import { PgConfig } from "../../src/adapters/pg/index.js";
import { runConformance } from "../conformance/suite.js";
import { PG_URL } from "../support/servers.js";

// pg and pg-copy-streams at their oldest allowed versions (the suite's 3000-row upserts go through COPY).
runConformance("pg_oldest", () => new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 4 } }));
