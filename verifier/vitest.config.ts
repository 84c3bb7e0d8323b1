import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "verifier",
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // The localnet end-to-end test asserts contract logs itself; near-workspaces would print them.
    env: { NEAR_WORKSPACES_NO_LOGS: "1" },
  },
});
