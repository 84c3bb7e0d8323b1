import { defineConfig } from "vitest/config";

/** The long reliability runs (reliability/run.ts starts them); not part of `npm test`. */
export default defineConfig({
  test: {
    name: "reliability",
    root: new URL("..", import.meta.url).pathname,
    include: ["reliability/**/*.run.ts"],
    setupFiles: ["src/sandbox-env.ts"],
    testTimeout: 24 * 3_600_000,
    hookTimeout: 300_000,
  },
});
