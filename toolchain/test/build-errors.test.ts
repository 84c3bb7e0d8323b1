// A failing build names the contract, the step and the tool's own message.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type BuildError, BuildFailures, buildContracts } from "../src/build.ts";
import { prepareEngine } from "../src/engine.ts";
import { repoRoot } from "../src/paths.ts";
import { silentProgress } from "../src/progress.ts";
import { compileModule } from "../src/qjsc.ts";

const root = mkdtempSync(path.join(tmpdir(), "toolchain-errors-"));
symlinkSync(path.join(repoRoot, "node_modules"), path.join(root, "node_modules"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function writeContract(name: string, source: string): void {
  const dir = path.join(root, "contracts", name);
  mkdirSync(path.join(dir, "src"), { recursive: true });
  const pkg = { name, version: "0.0.1", nearContract: { entry: "src/index.ts" } };
  writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg));
  writeFileSync(path.join(dir, "src", "index.ts"), source);
}

async function buildError(name: string): Promise<BuildError> {
  const options = { root, outDir: path.join(root, "out"), progress: silentProgress() };
  const error = await buildContracts([name], options).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof BuildFailures))
    throw new Error(`expected BuildFailures, got ${String(error)}`);
  expect(error.failures).toHaveLength(1);
  return error.failures[0] as BuildError;
}

describe("build errors", () => {
  it("a syntax error fails the typecheck step (near-sdk-js's check runs before bundling)", async () => {
    writeContract(
      "broken",
      'import { near } from "near-sdk-js";\nexport function f() {\n  near.log("x"\n}\n',
    );
    const error = await buildError("broken");
    expect(error.contract).toBe("broken");
    expect(error.step).toBe("typecheck");
    expect(error.message).toMatch(/^contract broken: typecheck failed: .*index\.ts/s);
  });

  it("an unresolvable import fails the typecheck step", async () => {
    writeContract(
      "orphan",
      'import { helper } from "./missing.ts";\nexport function f() { helper(); }\n',
    );
    const error = await buildError("orphan");
    expect(error.step).toBe("typecheck");
    expect(error.message).toMatch(/missing\.ts/);
  });

  it("a method named panic is refused before compiling", async () => {
    writeContract("reserved", "export function panic() {}\n");
    const error = await buildError("reserved");
    expect(error.step).toBe("check methods");
    expect(error.message).toBe(
      'contract reserved: check methods failed: "panic" is reserved, rename the contract method',
    );
  });

  it("an unknown contract name lists the known ones", async () => {
    await expect(
      buildContracts(["nope"], { root, outDir: root, progress: silentProgress() }),
    ).rejects.toThrow(/unknown contract\(s\): nope; known: /);
  });

  it("qjsc reports QuickJS's syntax error with the file name", async () => {
    const engine = await prepareEngine(silentProgress());
    expect(() => compileModule(engine.qjsc, "export const = 1;\n", "bad.js")).toThrow(
      /SyntaxError[\s\S]*bad\.js/,
    );
    const bytecode = compileModule(engine.qjsc, "export const answer = 42;\n", "good.js");
    expect(bytecode.length).toBeGreaterThan(10);
  });
});
