// near-sdk-js's build-time checks (type errors, fields not initialised in the constructor) and
// the build order of contracts that embed another contract's wasm with includeBytes.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BuildFailures, buildContracts } from "../src/build.ts";
import { contractDependencies, includedFiles, planBuild } from "../src/build-order.ts";
import { UNINITIALIZED_FIELDS } from "../src/check-contract.ts";
import { type Contract, discoverContracts } from "../src/discover.ts";
import { repoRoot } from "../src/paths.ts";
import { silentProgress } from "../src/progress.ts";

const root = mkdtempSync(path.join(tmpdir(), "toolchain-checks-"));
symlinkSync(path.join(repoRoot, "node_modules"), path.join(root, "node_modules"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const outDir = path.join(root, "build", "contracts");

function writeContract(name: string, source: string): void {
  const dir = path.join(root, "contracts", name);
  mkdirSync(path.join(dir, "src"), { recursive: true });
  const pkg = { name, version: "0.0.1", nearContract: { entry: "src/index.ts" } };
  writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg));
  writeFileSync(path.join(dir, "src", "index.ts"), source);
}

async function failure(name: string) {
  const error = await buildContracts([name], { root, outDir, progress: silentProgress() }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof BuildFailures)) throw new Error(`expected a failure, got ${error}`);
  return error.failures;
}

describe("near-sdk-js's build-time checks", () => {
  it("a field neither initialised nor assigned in the constructor is refused", async () => {
    writeContract(
      "uninit",
      `import { NearBindgen, call } from "near-sdk-js";
@NearBindgen({})
export class Counter {
  count: number;
  owner: string = "";
  label: string;
  constructor() {
    this.label = "counter";
  }
  @call({})
  bump(): void {
    this.count += 1;
  }
}
`,
    );
    const [error] = await failure("uninit");
    expect(error?.step).toBe("check fields");
    expect(error?.message).toBe(
      `contract uninit: check fields failed: Counter: ${UNINITIALIZED_FIELDS} count`,
    );
  });

  it("a class without a constructor must initialise every field", async () => {
    writeContract(
      "noctor",
      `import { NearBindgen, view } from "near-sdk-js";
@NearBindgen({})
export class Store {
  items: string[];
  @view({})
  size(): number {
    return this.items.length;
  }
}
`,
    );
    const [error] = await failure("noctor");
    expect(error?.message).toMatch(/Store: All parameters must be initialized .* items$/);
  });

  it("a type error is refused with the file, position and TypeScript code", async () => {
    writeContract(
      "typeerror",
      `import { NearBindgen, view } from "near-sdk-js";
@NearBindgen({})
export class Typed {
  value: number = 0;
  @view({})
  get(): string {
    return this.value;
  }
}
`,
    );
    const [error] = await failure("typeerror");
    expect(error?.step).toBe("typecheck");
    expect(error?.message).toMatch(
      /typecheck failed: 1 type error\(s\):\ncontracts\/typeerror\/src\/index\.ts:7:5: TS2322: Type 'number' is not assignable to type 'string'/,
    );
  });
});

const fake = (name: string): Contract => ({
  name,
  version: "0.0.1",
  dir: path.join(root, "fake", name),
  relativeDir: `fake/${name}`,
  entry: path.join(root, "fake", name, "src/index.ts"),
  standards: [],
  link: null,
});

describe("build order of contracts that embed other contracts' wasm", () => {
  it("levels follow the dependencies; a cycle is reported, not built", () => {
    const [a, b, c, x, y] = ["a", "b", "c", "x", "y"].map(fake) as Contract[];
    const all = [a, b, c, x, y] as Contract[];
    const deps = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", []],
      ["x", ["y"]],
      ["y", ["x"]],
    ]);
    const plan = planBuild(all, all, deps, path.join(root, "nowhere"));
    expect(plan.levels.map((level) => level.map((k) => k.name))).toEqual([["c"], ["b"], ["a"]]);
    expect(plan.unordered.map((u) => u.name)).toEqual(["x", "y"]);
    expect(plan.unordered[0]?.problem).toMatch(/includeBytes cycle: it embeds the wasm of y/);
    // Selecting one contract brings in what it embeds when that is not built yet.
    const alone = planBuild([a as Contract], all, deps, path.join(root, "nowhere"));
    expect(alone.levels.map((level) => level.map((k) => k.name))).toEqual([["c"], ["b"], ["a"]]);
  });

  it("a clean build of a contract embedding another's wasm builds that one first", async () => {
    writeContract(
      "inner",
      `import { NearBindgen, view } from "near-sdk-js";
@NearBindgen({})
export class Inner {
  @view({})
  hello(): string {
    return "inner";
  }
}
`,
    );
    writeContract(
      "outer",
      `import { NearBindgen, view, includeBytes } from "near-sdk-js";
const INNER = includeBytes("../../../build/contracts/inner.wasm");
@NearBindgen({})
export class Outer {
  @view({})
  inner_size(): number {
    return INNER.length;
  }
}
`,
    );
    const contracts = discoverContracts(root).contracts.filter((c) =>
      ["inner", "outer"].includes(c.name),
    );
    const outer = contracts.find((c) => c.name === "outer") as Contract;
    expect(includedFiles(outer)).toEqual([path.join(outDir, "inner.wasm")]);
    expect(contractDependencies(contracts, root, outDir).get("outer")).toEqual(["inner"]);
    expect(existsSync(path.join(outDir, "inner.wasm"))).toBe(false);
    const built = await buildContracts(["outer"], { root, outDir, progress: silentProgress() });
    expect(built.map((e) => e.name)).toEqual(["inner", "outer"]);
    const innerSize = built[0]?.size ?? 0;
    expect(built[1]?.size).toBeGreaterThan(innerSize);
  });
});
