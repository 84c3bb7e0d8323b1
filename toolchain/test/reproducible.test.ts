// Same sources -> same bytes, wherever the project lives: the probe built by the global
// setup (inside the repository) must equal a build of a copy in a temporary folder.
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, expect, inject, it } from "vitest";
import { buildContracts } from "../src/build.ts";
import { repoRoot } from "../src/paths.ts";
import { silentProgress } from "../src/progress.ts";

const root = mkdtempSync(path.join(tmpdir(), "toolchain-repro-elsewhere-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it("a copy of the probe built in another folder has the same sha256", async () => {
  const probe = "sandbox-tests/test-contracts/probe";
  cpSync(path.join(repoRoot, probe, "src"), path.join(root, probe, "src"), { recursive: true });
  cpSync(path.join(repoRoot, probe, "package.json"), path.join(root, probe, "package.json"));
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(root, "node_modules"));

  const [entry] = await buildContracts(["probe"], {
    root,
    outDir: path.join(root, "out"),
    progress: silentProgress(),
  });
  expect(entry?.sha256).toBe(inject("probeSha256"));
});
