/**
 * GPU detection through nvidia-smi: one CSV query for name, UUID, VRAM, driver, vBIOS and PCI bus
 * of every GPU, and `conf-compute -f` for the confidential-computing mode. The outcomes a provider
 * needs to act on are told apart: driver missing (command not found, or exit 9 "couldn't
 * communicate with the NVIDIA driver"), no GPU (exit 6 "No devices were found"), and success.
 */
import type { CcMode } from "@gpu-market/common/src/registry-types.ts";
import type { CommandRunner } from "./runner.ts";

export const QUERY_FIELDS = [
  "name",
  "uuid",
  "memory.total",
  "driver_version",
  "vbios_version",
  "pci.bus_id",
] as const;

export const QUERY_ARGS = [`--query-gpu=${QUERY_FIELDS.join(",")}`, "--format=csv"];
export const CC_ARGS = ["conf-compute", "-f"];

export interface Gpu {
  index: number;
  name: string;
  uuid: string;
  vramMib: number;
  driver: string;
  vbios: string;
  pciBusId: string;
}

export type GpuDetection =
  | { status: "ok"; gpus: Gpu[]; ccMode: CcMode; ccNote: string | null }
  | { status: "no-gpu"; message: string; fix: string }
  | { status: "driver-missing"; message: string; fix: string };

/** nvidia-smi's exit statuses (nvidia-smi(1), RETURN VALUE). */
const EXIT_NO_DEVICE = 6;
const EXIT_DRIVER = 9;

function splitCsvLine(line: string): string[] {
  return line.split(",").map((cell) => cell.trim());
}

/** The header names each column, with units in brackets: "memory.total [MiB]". */
function headerField(cell: string): string {
  return cell.replace(/\s*\[.*\]$/, "");
}

function parseMib(text: string, row: number): number {
  const match = /^(\d+)(?: MiB)?$/.exec(text);
  if (match === null) {
    throw new Error(`nvidia-smi CSV row ${row}: memory.total "${text}" is not a size in MiB`);
  }
  return Number(match[1]);
}

/** Parses `--query-gpu=... --format=csv` output (with its header line). */
export function parseGpuCsv(text: string): Gpu[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  const header = lines[0];
  if (header === undefined) {
    throw new Error("nvidia-smi printed no CSV header");
  }
  const columns = splitCsvLine(header).map(headerField);
  const index = (field: string): number => {
    const at = columns.indexOf(field);
    if (at < 0) throw new Error(`nvidia-smi CSV: no "${field}" column in "${header}"`);
    return at;
  };
  const at = Object.fromEntries(QUERY_FIELDS.map((f) => [f, index(f)])) as Record<
    (typeof QUERY_FIELDS)[number],
    number
  >;
  return lines.slice(1).map((line, i) => {
    const cells = splitCsvLine(line);
    if (cells.length !== columns.length) {
      throw new Error(
        `nvidia-smi CSV row ${i + 1}: ${cells.length} cells, expected ${columns.length}: "${line}"`,
      );
    }
    const cell = (field: (typeof QUERY_FIELDS)[number]): string => cells[at[field]] ?? "";
    return {
      index: i,
      name: cell("name"),
      uuid: cell("uuid"),
      vramMib: parseMib(cell("memory.total"), i + 1),
      driver: cell("driver_version"),
      vbios: cell("vbios_version"),
      pciBusId: cell("pci.bus_id"),
    };
  });
}

/** `nvidia-smi conf-compute -f` prints "CC status: ON" (or OFF, or DEVTOOLS). */
export function parseCcStatus(text: string): CcMode | null {
  const match = /CC status:\s*(ON|OFF|DEVTOOLS)\b/i.exec(text);
  return match === null ? null : (match[1]?.toLowerCase() as CcMode);
}

const INSTALL_DRIVER =
  "install the NVIDIA data-center driver (e.g. `sudo apt install nvidia-driver-580-server`), reboot, and check that `nvidia-smi` lists your GPUs";

export async function detectGpus(
  run: CommandRunner,
  command = "nvidia-smi",
): Promise<GpuDetection> {
  const query = await run(command, QUERY_ARGS);
  const said = `${query.stdout}${query.stderr}`.trim();
  if (query.notFound) {
    return {
      status: "driver-missing",
      message: `${command} was not found: the NVIDIA driver is not installed`,
      fix: INSTALL_DRIVER,
    };
  }
  if (query.code === EXIT_DRIVER || /couldn't communicate with the NVIDIA driver/i.test(said)) {
    return {
      status: "driver-missing",
      message: `nvidia-smi cannot talk to the NVIDIA driver: ${said}`,
      fix: `load the driver (\`sudo modprobe nvidia\`) or ${INSTALL_DRIVER}`,
    };
  }
  if (query.code === EXIT_NO_DEVICE || /No devices were found/i.test(said)) {
    return {
      status: "no-gpu",
      message: "nvidia-smi found no NVIDIA GPU",
      fix: "check that the GPU is attached to this machine (VM passthrough, `lspci | grep -i nvidia`)",
    };
  }
  if (query.code !== 0) {
    return {
      status: "driver-missing",
      message: `nvidia-smi failed with exit status ${query.code}: ${said}`,
      fix: INSTALL_DRIVER,
    };
  }
  const gpus = parseGpuCsv(query.stdout);
  if (gpus.length === 0) {
    return { status: "no-gpu", message: "nvidia-smi listed no GPU", fix: INSTALL_DRIVER };
  }
  const cc = await run(command, CC_ARGS);
  const mode = cc.code === 0 ? parseCcStatus(cc.stdout) : null;
  return {
    status: "ok",
    gpus,
    ccMode: mode ?? "off",
    ccNote:
      mode === null
        ? `\`nvidia-smi conf-compute -f\` did not report a CC status (exit ${cc.code}); taken as off`
        : null,
  };
}
