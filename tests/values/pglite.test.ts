import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { runValueTests } from "./suite.js";

runValueTests(
  "pglite",
  (driverFeatures) => new PgliteConfig({ driverFeatures: { enablePgvector: false, ...driverFeatures } }),
);
