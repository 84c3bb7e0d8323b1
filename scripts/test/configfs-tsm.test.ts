import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tsmQuote } from "../src/tee/configfs-tsm.ts";
import { fakeKernel } from "./support/fake-tsm.ts";

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
