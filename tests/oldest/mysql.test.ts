import { MysqlConfig } from "../../src/adapters/mysql/index.js";
import { runConformance } from "../conformance/suite.js";
import { MYSQL_URL } from "../support/servers.js";

runConformance(
  "mysql_oldest",
  () =>
    new MysqlConfig({
      poolConfig: { connectionString: MYSQL_URL, maxSize: 4 },
      driverFeatures: { tinyInt1AsBoolean: true },
    }),
);
