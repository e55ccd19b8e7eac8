import { PgConfig } from "../../src/adapters/pg/index.js";
import { runPostgresConformance } from "../conformance/postgres.js";
import { PG_URL, runServerFaultTests } from "./server-faults.js";

runPostgresConformance("pg", () => new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 4 } }));
runServerFaultTests("pg", (pool) => new PgConfig({ poolConfig: { connectionString: PG_URL, ...pool } }));
