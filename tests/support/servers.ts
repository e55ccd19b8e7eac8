/**
 * Where the server-backed tests connect. CI uses the defaults (the machine's PostgreSQL and MariaDB); a developer
 * running several checkouts at once points each at its own database so their tables never collide.
 */
export const PG_URL = process.env.SQLSPEC_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const MYSQL_URL = process.env.SQLSPEC_TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test";
