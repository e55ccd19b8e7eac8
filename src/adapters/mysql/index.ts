export { MysqlConfig, type MysqlConfigOptions, type MysqlDriverFeatures, type MysqlPoolConfig } from "./config.js";
export { MysqlConnection } from "./connection.js";
export { MysqlAdapter } from "./driver.js";
