export { PgliteConfig, type PgliteConfigOptions, type PglitePoolConfig } from "./config.js";
export type { PgliteAdapter, PgliteConnection } from "./driver.js";
