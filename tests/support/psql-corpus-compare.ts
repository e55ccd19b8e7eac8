/**
 * Compares the splitter with psql on a folder of .sql files that is not part of this repository (for example
 * PostgreSQL's src/test/regress/sql): `npx tsx tests/support/psql-corpus-compare.ts <folder>`. Prints the share of
 * files where both agree on every statement and COPY block, and the first difference of each other file. Files
 * that use psql variables or conditionals (`\set`, `\gset`, `\if`) are counted apart: psql rewrites their text.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { parseScript } from "../../src/core/splitter.js";
import { comparable, psqlSplit } from "./psql-oracle.js";

const dir = process.argv[2];
if (dir === undefined) {
  console.error("usage: tsx tests/support/psql-corpus-compare.ts <folder of .sql files>");
  process.exit(2);
}
let same = 0;
let differ = 0;
let scripted = 0;
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith(".sql"))
  .sort()) {
  // psql's own commands (\d, \copy …) send catalog queries of their own: drop those lines on both sides
  const script = readFileSync(join(dir, file), "utf8").replace(/^[ \t]*\\(?!\.|gx?\b).*$/gm, "");
  if (/^\s*\\(set|gset|if|elif|else|endif|getenv|gexec|bind)\b/m.test(script) || /\\gset\b/.test(script)) {
    scripted++;
    continue;
  }
  // psql drops blank lines outside quotes: compare statements with whitespace runs collapsed
  const flat = (xs: { sql: string; copyData?: string }[]) => xs.map((x) => ({ ...x, sql: x.sql.replace(/\s+/g, " ") }));
  const theirs = flat(comparable(await psqlSplit(script)));
  const ours = flat(comparable(parseScript(script, "postgres")));
  if (isDeepStrictEqual(theirs, ours)) {
    same++;
    continue;
  }
  differ++;
  let k = 0;
  while (k < theirs.length && isDeepStrictEqual(theirs[k], ours[k])) k++;
  const cut = (s: unknown) => JSON.stringify(s)?.slice(0, 160);
  console.log(
    `${file}: statement ${k + 1} of ${theirs.length} (ours ${ours.length})\n  psql: ${cut(theirs[k])}\n  ours: ${cut(ours[k])}`,
  );
}
const total = same + differ;
console.log(
  `${same}/${total} files agree (${((100 * same) / Math.max(1, total)).toFixed(1)}%); ${scripted} files with psql variables/conditionals skipped`,
);
