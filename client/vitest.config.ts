import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "client",
    include: ["test/**/*.test.ts"],
    // e2e.test.ts starts localnet, the agent and the model server.
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});
