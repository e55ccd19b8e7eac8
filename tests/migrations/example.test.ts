/** examples/migrations/main.ts runs as documented (in-memory PGlite): apply, revert one, apply again. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect, test } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TSX = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;

test("examples/migrations/main.ts", { timeout: 240_000 }, async () => {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", TSX, join(ROOT, "examples/migrations/main.ts")], {
      cwd: ROOT,
      env,
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, err }));
  });
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  const lines = r.out
    .replace(/\(\d+ ms\)/g, "(N ms)")
    .replace(/ \d+ ms$/gm, " N ms")
    .replace(/[0-9a-f]{12}…/g, "<sum>…");
  expect(lines).toContain("pending: 0001, 0002, 0003, 0004\n");
  expect(lines).toContain("dry run: 4 migrations, first:\nCREATE TABLE authors (");
  expect(lines).toContain(
    "upgrade:\n  0001 create authors (N ms)\n  0002 create books (N ms)\n  0003 index books by author (N ms)\n" +
      "  0004 seed authors (N ms)\n",
  );
  expect(lines).toContain("books: [ { title: 'The Dispossessed', name: 'Ursula K. Le Guin' } ]\n");
  expect(lines).toContain("downgrade -1:\n  0004 seed authors (N ms)\ncurrent: 0003\n  0004 seed authors (N ms)\n");
  expect(lines).toContain(
    "  #1 0001 sql <sum>… N ms\n  #2 0002 sql <sum>… N ms\n  #3 0003 sql <sum>… N ms\n  #4 0004 ts <sum>… N ms\n",
  );
  expect(lines).toContain("check: up to date\n");
});
