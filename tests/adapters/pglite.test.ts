import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { runPostgresConformance } from "../conformance/postgres.js";

runPostgresConformance("pglite", () => new PgliteConfig({ driverFeatures: { enablePgvector: false } }));
