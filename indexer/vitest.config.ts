import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "indexer",
    include: ["test/**/*.test.ts"],
    // One embedded PostgreSQL for the whole run; each test file gets its own database from a
    // migrated template.
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
