import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "agent",
    include: ["test/**/*.test.ts"],
    // The end-to-end files start localnet, the contracts and a model server in process.
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
