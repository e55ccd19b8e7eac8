import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { oldestDriverAliases } from "./tests/oldest/drivers.js";

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Test files share their worker process instead of a fresh one each: the sources, the drivers and PGlite's WASM
    // (about 2 s of CPU per process) load once, not once per file (npm test: 497 s -> 359 s of CPU). A file that
    // changes process state (process.env, listeners) puts it back, and none may rely on a module loaded fresh for it.
    isolate: false,
    // Vitest's default (cores - 1) is one worker on the 2-core machine, which then sits idle while a file waits on the
    // servers, a spawned CLI or a timer. Two workers overlap those waits (npm test: 541 s -> 270 s wall). Test files
    // already name their own tables and connections so that they can run side by side on one database.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    globalSetup: ["tests/support/global-setup.ts"],
    projects: [
      // tests/package/consumers.test.ts (the packed package in fresh projects, about a minute of CPU) runs in
      // `npm run test:package`, which .ci/run runs after the build.
      {
        extends: true,
        test: {
          name: "default",
          include: ["tests/**/*.test.ts"],
          exclude: ["tests/values/**", "tests/oldest/**", "tests/package/consumers.test.ts"],
          setupFiles: ["tests/support/pglite-initdb.ts"],
        },
      },
      // The conformance suite again with every driver at the oldest version its peer range allows (npm aliases).
      {
        extends: true,
        resolve: { alias: oldestDriverAliases() },
        test: { name: "oldest drivers", include: ["tests/oldest/**/*.test.ts"] },
      },
      // Value mapping must not depend on the process time zone: these run in one whose offset is never 0.
      {
        extends: true,
        test: {
          name: "values (TZ=Asia/Tokyo)",
          include: ["tests/values/**/*.test.ts"],
          env: { TZ: "Asia/Tokyo" },
          setupFiles: ["tests/support/pglite-initdb.ts"],
        },
      },
    ],
  },
});
