import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "model-server",
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
