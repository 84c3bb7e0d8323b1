/**
 * TDX (or SEV-SNP) quotes through the kernel's configfs-tsm interface
 * (Documentation/ABI/testing/configfs-tsm): make a report entry under
 * /sys/kernel/config/tsm/report/, write the 64 REPORTDATA bytes to its `inblob`, read the quote
 * from `outblob`, check `generation` (a concurrent writer to the same entry would change it) and
 * `provider`, then remove the entry. The file operations are injectable so tests can play the
 * kernel's part on a temporary folder.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import { join } from "node:path";
import { CliError } from "../errors.ts";

export const TSM_REPORT_ROOT = "/sys/kernel/config/tsm/report";

export interface TsmFs {
  mkdir(path: string): Promise<void>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  rmdir(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
}

export const nodeTsmFs: TsmFs = {
  mkdir: async (path) => {
    await fs.mkdir(path);
  },
  writeFile: (path, data) => fs.writeFile(path, data),
  readFile: async (path) => new Uint8Array(await fs.readFile(path)),
  rmdir: (path) => fs.rmdir(path),
  exists: (path) =>
    fs.access(path).then(
      () => true,
      () => false,
    ),
};

export interface TsmQuote {
  quote: Uint8Array;
  /** "tdx_guest", "sev_guest", ... as the kernel names the TSM provider. */
  provider: string;
  generation: number;
}

export async function tsmAvailable(
  root = TSM_REPORT_ROOT,
  io: TsmFs = nodeTsmFs,
): Promise<boolean> {
  return io.exists(root);
}

export async function tsmQuote(
  reportData: Uint8Array,
  root = TSM_REPORT_ROOT,
  io: TsmFs = nodeTsmFs,
): Promise<TsmQuote> {
  if (reportData.length !== 64) {
    throw new Error(`REPORTDATA must be 64 bytes, got ${reportData.length}`);
  }
  if (!(await io.exists(root))) {
    throw new CliError(`${root} does not exist: this machine has no configfs-tsm quote interface`, {
      hint: "run inside a TDX guest with Linux 6.7+ (mount -t configfs none /sys/kernel/config), or pass --evidence <file>",
    });
  }
  const entry = join(root, `gpu-market-${process.pid}-${randomBytes(4).toString("hex")}`);
  await io.mkdir(entry);
  try {
    await io.writeFile(join(entry, "inblob"), reportData);
    const quote = await io.readFile(join(entry, "outblob"));
    const generation = Number(
      new TextDecoder().decode(await io.readFile(join(entry, "generation"))).trim(),
    );
    const provider = new TextDecoder().decode(await io.readFile(join(entry, "provider"))).trim();
    // Our entry saw exactly one inblob write: any other count means someone else wrote to it
    // between our write and our read, and the quote may carry their REPORTDATA.
    if (generation !== 1) {
      throw new CliError(
        `configfs-tsm entry ${entry}: generation is ${generation}, expected 1 (another process wrote to it)`,
        { hint: "run register-provider again" },
      );
    }
    if (quote.length === 0) {
      throw new CliError(`configfs-tsm entry ${entry}: the kernel returned an empty quote`, {
        hint: "check `dmesg` for the TSM provider's error (the quoting enclave may be unreachable)",
      });
    }
    return { quote, provider, generation };
  } finally {
    await io.rmdir(entry).catch(() => {});
  }
}
