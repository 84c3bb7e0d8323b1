import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "scripts",
    include: ["test/**/*.test.ts"],
    // The end-to-end files start localnet in process and wait for blocks.
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
