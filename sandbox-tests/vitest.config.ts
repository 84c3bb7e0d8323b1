import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "sandbox-tests",
    include: ["test/**/*.test.ts"],
    setupFiles: ["src/sandbox-env.ts"],
    // Each file starts its own node; transactions wait for blocks.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
