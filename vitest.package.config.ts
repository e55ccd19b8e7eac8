import { defineConfig } from "vitest/config";

/** `npm run test:package`: pack the package and test it in fresh consumer projects (tests/package/consumers.test.ts). */
export default defineConfig({
  test: {
    include: ["tests/package/consumers.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    pool: "forks",
  },
});
