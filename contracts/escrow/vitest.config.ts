import { defineConfig } from "vitest/config";

// Unit tests of the host-independent modules (amounts, the delivery receipt); the rest runs in contracts.
export default defineConfig({
  test: {
    name: "escrow",
    include: ["test/**/*.test.ts"],
  },
});
