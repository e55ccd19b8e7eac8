// One process loads both builds (an ES module app whose CommonJS dependency requires sqlspec too). Errors, SQL and
// SQLResult must match instanceof across them, and each build's session must run the other build's statements.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import * as esmNamespace from "sqlspec";
import * as esmPg from "sqlspec/adapters/pg";

const require = createRequire(import.meta.url);
const esm = { ...esmNamespace };
const cjs = require("sqlspec");
const cjsPg = require("sqlspec/adapters/pg");
assert.notEqual(esm.SQLSpecError, cjs.SQLSpecError, "two builds were loaded");

const errorNames = Object.keys(esm).filter((k) => typeof esm[k] === "function" && esm[k].prototype instanceof Error);
let pairs = 0;
for (const name of errorNames) {
  const fromCjs = name === "MissingDependencyError" ? new cjs[name]("pg", "x") : new cjs[name]("m");
  const fromEsm = name === "MissingDependencyError" ? new esm[name]("pg", "x") : new esm[name]("m");
  assert.equal(fromCjs.name, name);
  for (const other of errorNames) {
    assert.equal(fromCjs instanceof esm[other], fromEsm instanceof esm[other], `${name} instanceof ${other}`);
    assert.equal(fromEsm instanceof cjs[other], fromEsm instanceof esm[other], `${name} instanceof cjs ${other}`);
    pairs++;
  }
}

const url = process.env.SQLSPEC_TEST_PG_URL;
const seen = {};
for (const [label, lib, pg, other] of [
  ["cjs session", cjs, cjsPg, esm],
  ["esm session", esm, esmPg, cjs],
]) {
  const spec = new lib.SQLSpec();
  const db = spec.addConfig(new pg.PgConfig({ poolConfig: { connectionString: url, maxSize: 1 } }));
  await db.withSession(async (session) => {
    const result = await session.execute(
      other.sql`SELECT ${41}::int + 1 AS answer, ${other.sql.json({ a: 1 })}::jsonb AS doc`,
    );
    const failure = await session.execute(other.sql`SELECT 1 / ${0}::int`).catch((e) => e);
    seen[label] = {
      answer: result.one().answer,
      doc: result.one().doc,
      resultIsOtherSQLResult: result instanceof other.SQLResult,
      errorIsOtherDataError: failure instanceof other.DataError,
      errorIsOtherSQLSpecError: failure instanceof other.SQLSpecError,
      errorIsOtherIntegrityError: failure instanceof other.IntegrityError,
      code: failure.code,
    };
  });
  await spec.closeAllPools();
}
console.log(JSON.stringify({ errorClasses: errorNames.length, pairs, ...seen }));
