/**
 * The command functions, for other tools (npm start, the dashboard) to call with their own Io:
 * each takes typed options and an Io and returns the same result the CLI prints with --json.
 */
export { type Artifact, MARKET_CONTRACTS, prebuilt, rebuild } from "./artifacts.ts";
export {
  delegate,
  listProposals,
  type ProposalRequest,
  propose,
  showProposal,
  transition,
  vote,
} from "./commands/dao.ts";
export {
  type DeployOptions,
  type DeployResult,
  deployMarket,
  fastForwardTo,
} from "./commands/deploy.ts";
export {
  type CreateJobOptions,
  clientAction,
  createJob,
  getJob,
  watchJob,
  withdraw,
} from "./commands/job.ts";
export type { Check } from "./commands/preflight.ts";
export {
  localChecks,
  type RegisterProviderOptions,
  type RegisterProviderResult,
  registerProvider,
} from "./commands/register-provider.ts";
export {
  type Credentials,
  defaultCredentials,
  loadAccountKey,
  saveAccountKey,
} from "./credentials.ts";
export { type Deployment, deploymentPath, readDeployment } from "./deployment.ts";
export { CliError } from "./errors.ts";
export { hardwareRecord } from "./gpu/hardware.ts";
export { hostInfo } from "./gpu/host.ts";
export { detectGpus, type GpuDetection } from "./gpu/nvidia-smi.ts";
export { type CommandRunner, systemRunner } from "./gpu/runner.ts";
export { consoleIo, type Io, memoryIo } from "./io.ts";
export { loadOrCreateMachineKey } from "./machine-key.ts";
export { Chain, type MarketEvent } from "./near.ts";
export { type Network, resolveNetwork } from "./network.ts";
export { TSM_REPORT_ROOT, tsmQuote } from "./tee/configfs-tsm.ts";
