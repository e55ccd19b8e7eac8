/**
 * Migrations from code, on an in-memory PGlite (or DATABASE_URL): apply, inspect, revert one, apply again.
 *   npx tsx examples/migrations/main.ts
 * The same operations from the command line: see sqlspec.config.ts here, and the README's Migrations section.
 */
import { SQLSpec } from "../../src/index.js";
import { makeConfig } from "./sqlspec.config.js";

await using spec = new SQLSpec();
const db = spec.addConfig(makeConfig());

const log = (e: { type: string; migration?: { version: string; description: string }; executionTimeMs?: number }) => {
  if (e.type === "done")
    console.log(`  ${e.migration!.version} ${e.migration!.description} (${Math.round(e.executionTimeMs!)} ms)`);
};

console.log("pending:", (await db.migrations.pending()).map((m) => m.version).join(", "));
const plan = await db.migrations.upgrade({ dryRun: true });
console.log(`dry run: ${plan.migrations.length} migrations, first:\n${plan.migrations[0]?.sql}`);

console.log("upgrade:");
await db.migrations.upgrade({ onEvent: log });
const books = await db.withSession((s) =>
  s.select<{ title: string; name: string }>("SELECT b.title, a.name FROM books b JOIN authors a ON a.id = b.author_id"),
);
console.log("books:", books);

console.log("downgrade -1:");
await db.migrations.downgrade("-1", { onEvent: log });
console.log("current:", (await db.migrations.current())?.version);

await db.migrations.upgrade({ onEvent: log });
for (const r of await db.migrations.history()) {
  console.log(`  #${r.executionSequence} ${r.version} ${r.type} ${r.checksum.slice(0, 12)}… ${r.executionTimeMs} ms`);
}
console.log("check:", (await db.migrations.check()).ok ? "up to date" : "NOT up to date");
