export { SqliteConfig, type SqliteConfigOptions, type SqlitePoolConfig } from "./config.js";
export { SqliteConnection, SqliteHandle } from "./connection.js";
export { SqliteAdapter } from "./driver.js";
export { SqliteBusyError } from "./errors.js";
