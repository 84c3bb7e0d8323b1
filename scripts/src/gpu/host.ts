/** CPU cores and RAM of this host, as the registry records them. */
import { availableParallelism, totalmem } from "node:os";

export interface HostInfo {
  cpuCores: number;
  ramMib: number;
}

export function hostInfo(): HostInfo {
  return { cpuCores: availableParallelism(), ramMib: Math.floor(totalmem() / (1024 * 1024)) };
}
