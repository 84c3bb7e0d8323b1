import { defineConfig } from "vitest/config";

// Unit tests of the host-independent modules (validation, encodings); the rest runs in contracts.
export default defineConfig({
  test: {
    name: "common",
    include: ["test/**/*.test.ts"],
  },
});
