import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { runConformance } from "../conformance/suite.js";
import { PG_URL } from "../support/servers.js";

runConformance("pgjs_oldest", () => new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 4 } }));
