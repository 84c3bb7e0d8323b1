import { defineConfig } from "vitest/config";

// Unit tests of the host-independent modules; the contract itself is tested in sandbox-tests.
export default defineConfig({
  test: {
    name: "governance",
    include: ["test/**/*.test.ts"],
  },
});
