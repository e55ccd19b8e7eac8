import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { runConformance } from "../conformance/suite.js";

runConformance("pglite_oldest", () => new PgliteConfig({ driverFeatures: { enablePgvector: false } }));
