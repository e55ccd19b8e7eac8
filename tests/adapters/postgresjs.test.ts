import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { runPostgresConformance } from "../conformance/postgres.js";
import { PG_URL, runServerFaultTests } from "./server-faults.js";

runPostgresConformance("postgresjs", () => new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 4 } }));
runServerFaultTests("postgresjs", (pool) => new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, ...pool } }));
