import { defineConfig } from "vitest/config";

// Each workspace keeps its own vitest.config.ts; `npm test` runs them all as projects.
export default defineConfig({
  test: {
    projects: ["*/vitest.config.ts", "contracts/*/vitest.config.ts"],
  },
});
