export { PostgresJsConfig, type PostgresJsConfigOptions, type PostgresJsPoolConfig } from "./config.js";
export { PostgresJsAdapter, PostgresJsConnection, type PostgresSql } from "./driver.js";
