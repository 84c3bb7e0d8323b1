import { writeFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import { basename, join } from "node:path";
import { nodeTsmFs, type TsmFs } from "../../src/tee/configfs-tsm.ts";

/**
 * The kernel's part on a temporary folder laid out like /sys/kernel/config/tsm/report: a new entry
 * gets `provider` and `generation`; a write to `inblob` bumps the generation and produces
 * `outblob` (a fake quote: a header then the REPORTDATA); rmdir removes the entry with its files.
 */
export function fakeKernel(extraWrites = 0): TsmFs {
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
