export { PgConfig, type PgConfigOptions, type PgPoolConfig } from "./config.js";
export { PgAdapter, PgConnection } from "./driver.js";
