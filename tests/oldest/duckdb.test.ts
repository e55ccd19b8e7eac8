import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { runConformance } from "../conformance/suite.js";

runConformance("duckdb_oldest", () => new DuckdbConfig({ poolConfig: { database: ":memory:" } }));
