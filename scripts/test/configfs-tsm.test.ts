import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { nodeTsmFs, type TsmFs, tsmQuote } from "../src/tee/configfs-tsm.ts";

/**
 * The kernel's part on a temporary folder laid out like /sys/kernel/config/tsm/report: a new entry
 * gets `provider` and `generation`; a write to `inblob` bumps the generation and produces
 * `outblob` (a fake quote: a header then the REPORTDATA); rmdir removes the entry with its files.
 */
function fakeKernel(extraWrites = 0): TsmFs {
  return {
    ...nodeTsmFs,
    async mkdir(path) {
      await fs.mkdir(path);
      writeFileSync(join(path, "provider"), "tdx_guest\n");
      writeFileSync(join(path, "generation"), "0\n");
    },
    async writeFile(path, data) {
      await fs.writeFile(path, data);
      if (basename(path) === "inblob") {
        const entry = join(path, "..");
        const generation = 1 + extraWrites;
        writeFileSync(join(entry, "generation"), `${generation}\n`);
        writeFileSync(join(entry, "outblob"), Buffer.concat([Buffer.from("QUOTE:"), data]));
      }
    },
    async rmdir(path) {
      await fs.rm(path, { recursive: true });
    },
  };
}

const dirs: string[] = [];
function reportRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), "tsm-"));
  dirs.push(dir);
  mkdirSync(join(dir, "report"));
  return join(dir, "report");
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("configfs-tsm quotes", () => {
  it("writes REPORTDATA to inblob, reads outblob, and removes the entry", async () => {
    const root = reportRoot();
    const reportData = new Uint8Array(64).map((_, i) => i);
    const got = await tsmQuote(reportData, root, fakeKernel());
    expect(got.provider).toBe("tdx_guest");
    expect(got.generation).toBe(1);
    expect(Buffer.from(got.quote)).toEqual(Buffer.concat([Buffer.from("QUOTE:"), reportData]));
    expect(readdirSync(root)).toEqual([]);
  });

  it("refuses a quote when another writer raced on the entry", async () => {
    const root = reportRoot();
    await expect(tsmQuote(new Uint8Array(64), root, fakeKernel(1))).rejects.toThrow(
      /generation is 2, expected 1/,
    );
    expect(readdirSync(root)).toEqual([]);
  });

  it("says what to do when the interface is absent, and checks the REPORTDATA size", async () => {
    await expect(tsmQuote(new Uint8Array(64), "/nonexistent/tsm/report")).rejects.toMatchObject({
      message: expect.stringContaining("no configfs-tsm quote interface"),
      hint: expect.stringContaining("--evidence"),
    });
    await expect(tsmQuote(new Uint8Array(32), reportRoot(), fakeKernel())).rejects.toThrow(
      /64 bytes, got 32/,
    );
  });
});
