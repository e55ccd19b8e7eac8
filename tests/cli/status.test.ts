/**
 * The status line of `sqlspec migrate` on a terminal: the CLI run in-process with an io that has `status` (as the
 * bin's io has when stderr is a TTY). Without it (pipes, CI) only the plain lines appear: the spawned tests in
 * migrate*.test.ts assert exact stdout and an empty stderr.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, test } from "vitest";
import { type CliIO, run } from "../../src/cli/program.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "sqlspec-status-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("upgrade on a terminal: a status line with the running time while a migration runs, cleared before its line", {
  timeout: 120_000,
}, async () => {
  const migrations = join(dir, "migrations");
  mkdirSync(migrations);
  writeFileSync(
    join(dir, "sqlspec.config.ts"),
    `import { SqliteConfig } from ${JSON.stringify(join(ROOT, "src/adapters/sqlite/index.ts"))};
export default new SqliteConfig({
  poolConfig: { database: ${JSON.stringify(join(dir, "app.sqlite"))} },
  migrationConfig: { scriptLocation: ${JSON.stringify(migrations)} },
});
`,
  );
  writeFileSync(
    join(migrations, "0001_slow.ts"),
    'export async function up(): Promise<string> {\n  await new Promise((r) => setTimeout(r, 900));\n  return "CREATE TABLE slow (id INT)";\n}\n',
  );
  writeFileSync(join(migrations, "0002_fast.sql"), "-- name: migrate-0002-up\nCREATE TABLE fast (id INT);\n");
  const log: string[] = [];
  const io: CliIO = {
    out: (t) => log.push(`out:${t}`),
    err: (t) => log.push(`err:${t}`),
    status: (t) => log.push(`status:${t}`),
  };
  const code = await run(["node", "sqlspec", "migrate", "--config", join(dir, "sqlspec.config.ts"), "upgrade"], io);
  expect(log.filter((l) => l.startsWith("err:"))).toEqual([]);
  expect(code).toBe(0);
  const applied1 = log.findIndex((l) => l.startsWith("out:applied 0001 slow"));
  const slow = log.slice(0, applied1);
  // drawn at once, redrawn as the seconds pass (every 250 ms), cleared before the plain line
  expect(slow[0]).toBe("status:applying 0001 slow… 0.0 s");
  const seconds = slow.filter((l) => l !== "status:").map((l) => Number(/… (\d+\.\d) s$/.exec(l)?.[1]));
  expect(seconds.length).toBeGreaterThanOrEqual(3);
  expect([...seconds].sort((a, b) => a - b)).toEqual(seconds);
  expect(seconds.at(-1)).toBeGreaterThanOrEqual(0.5);
  expect(slow.at(-1)).toBe("status:");
  expect(log[applied1]).toMatch(/^out:applied 0001 slow \(\d+ ms\)$/);
  const applied2 = log.findIndex((l) => l.startsWith("out:applied 0002 fast"));
  const fast = log.slice(applied1 + 1, applied2);
  expect(fast[0]).toBe("status:applying 0002 fast… 0.0 s");
  expect(fast.slice(1, -1).every((l) => /^status:applying 0002 fast… \d+\.\d s$/.test(l))).toBe(true);
  expect(fast.at(-1)).toBe("status:");
  expect(log[applied2]).toMatch(/^out:applied 0002 fast \(\d+ ms\)$/);
  expect(log.slice(applied2 + 1)).toEqual([
    expect.stringMatching(/^out:Applied 2 in \d+\.\d s; database at 0002 fast$/),
  ]);
});
