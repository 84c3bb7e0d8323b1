import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "localnet",
    include: ["test/**/*.test.ts"],
  },
});
