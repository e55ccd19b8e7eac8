export { DuckdbConfig, type DuckdbConfigOptions, type DuckdbPoolConfig } from "./config.js";
export { DuckdbAdapter, DuckdbConnection } from "./driver.js";
