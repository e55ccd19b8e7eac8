import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import { runConformance } from "../conformance/suite.js";

runConformance("sqlite_oldest", () => new SqliteConfig({ poolConfig: { database: ":memory:" } }));
