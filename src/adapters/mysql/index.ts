export { MysqlConfig, type MysqlConfigOptions, type MysqlDriverFeatures, type MysqlPoolConfig } from "./config.js";
export { MysqlAdapter, MysqlConnection } from "./driver.js";
