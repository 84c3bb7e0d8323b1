import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "toolchain",
    include: ["test/**/*.test.ts"],
    // Builds the probe contract once for every test file (see test/global-setup.ts).
    globalSetup: ["test/global-setup.ts"],
    // A contract build takes ~30 s on 2 cores once the engine is cached (~1 min before).
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});
