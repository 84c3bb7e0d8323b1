/** The register-provider and deploy commands' flags, over registerProvider() and deployMarket(). */
import { context, parseCommand, required, wholeNumber } from "./args.ts";
import { deployMarket } from "./commands/deploy.ts";
import { registerProvider } from "./commands/register-provider.ts";
import { usageError } from "./errors.ts";
import { hostInfo } from "./gpu/host.ts";
import { systemRunner } from "./gpu/runner.ts";
import { defaultMachineKeyPath } from "./machine-key.ts";
import { parseModelFlag } from "./models.ts";
import { TSM_REPORT_ROOT } from "./tee/configfs-tsm.ts";
import { parseNear, parseU128 } from "./units.ts";

const REGISTER_USAGE = `usage: gpu-market register-provider --account <provider> --price <yocto per unit> --model <name>=<weights> [options]

  --name <text> --endpoint <url> --region <text>   the provider's record (needed the first time)
  --bond <NEAR>            deposit for register_provider (default: the registry's min_bond + 0.05)
  --price <units>          price per unit of work, in yoctoNEAR (or token base units)
  --model <name>=<path>    a model the machine serves and its weights file (GGUF or safetensors),
                           hashed with sha256; or <name>=sha256:<64 hex>. Repeat per model (1-16)
  --tee tdx|none-dev       default tdx; none-dev (no TEE) only on localnet
  --challenge-only         register the provider if new, request a challenge and print its
                           REPORTDATA and GPU nonce (to make evidence out of band), then stop
  --evidence <file>        a quote (or GMEV bundle) made out of band for the open challenge
  --gpu-token <file>       NVIDIA GPU evidence (NRAS attestation result, JSON or JWT)
  --machine-key <file>     the machine's signing and encryption keys (made if missing; mode 0600)
                           default GPU_MARKET_MACHINE_KEY or ~/.gpu-market/machine-key.json
  --hardware <file>        hardware JSON instead of nvidia-smi (none-dev only)
  --machine-deposit <NEAR> storage deposit for add_machine (default 0.1; surplus refunded)
  --tsm <dir>              configfs-tsm report folder (default ${TSM_REPORT_ROOT})
  --wait <seconds>         how long to wait for the attestation state (default 600; 0: no wait)
  --dry-run                run the checks and show what would be registered; send nothing`;

export async function registerProviderCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(
    argv,
    {
      name: { type: "string" },
      endpoint: { type: "string" },
      region: { type: "string" },
      bond: { type: "string" },
      price: { type: "string" },
      model: { type: "string", multiple: true },
      tee: { type: "string" },
      evidence: { type: "string" },
      "gpu-token": { type: "string" },
      "machine-key": { type: "string" },
      hardware: { type: "string" },
      "machine-deposit": { type: "string" },
      tsm: { type: "string" },
      wait: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      "challenge-only": { type: "boolean", default: false },
    },
    REGISTER_USAGE,
  );
  if (values.help) {
    process.stdout.write(`${REGISTER_USAGE}\n`);
    return;
  }
  const tee = values.tee ?? "tdx";
  if (tee !== "tdx" && tee !== "none-dev") {
    throw usageError(`--tee: "${tee}" is not tdx or none-dev`, REGISTER_USAGE);
  }
  const ctx = context(values);
  await registerProvider(
    {
      chain: ctx.chain,
      registry: ctx.contract("registry"),
      provider: ctx.account("registers the provider"),
      name: values.name,
      endpoint: values.endpoint,
      region: values.region,
      bond: values.bond === undefined ? undefined : parseNear(values.bond, "--bond"),
      pricePerUnit: parseU128(required(values.price, "--price", REGISTER_USAGE), "--price"),
      tee,
      evidencePath: values.evidence,
      challengeOnly: values["challenge-only"],
      gpuTokenPath: values["gpu-token"],
      machineKeyPath: values["machine-key"] ?? defaultMachineKeyPath(),
      models: (values.model ?? []).map(parseModelFlag),
      hardwarePath: values.hardware,
      machineDeposit:
        values["machine-deposit"] === undefined
          ? undefined
          : parseNear(values["machine-deposit"], "--machine-deposit"),
      dryRun: values["dry-run"] ?? false,
      waitSeconds: wholeNumber(values.wait, "--wait", 600),
      runner: systemRunner,
      host: hostInfo(),
      tsmRoot: values.tsm ?? TSM_REPORT_ROOT,
    },
    ctx.io,
  );
}

const DEPLOY_USAGE = `usage: gpu-market deploy --account <master> [options]

Creates governance.<master>, registry.<master> and escrow.<master> (or the names given with
--governance/--registry/--escrow), deploys and initialises them wired together, and writes the
deployment file.

  --no-build               deploy build/contracts as built earlier instead of rebuilding
  --fund-each <NEAR>       NEAR each contract account starts with (default 10)
  --holders <id=tokens,...> governance token holders, whole tokens (default: <master>=1000000)
  --gov-config <json>      governance config (voting_delay_blocks, voting_period_blocks,
                           timelock_blocks, grace_period_blocks, quorum_bps, proposal_threshold, guardian)
  --registry-params <json> --escrow-params <json>   contract params at init
  --arbiter <id>           resolves disputes (default: the governance account)
  --dev-mode               localnet: enable dev mode through a governance vote (default on localnet)
  --no-dev-mode
  --keep-keys              give each contract account a full-access key (saved in the keystore)`;

function jsonFlag(text: string | undefined, flag: string): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new Error("not an object");
    return value;
  } catch (error) {
    throw usageError(`${flag}: not a JSON object (${(error as Error).message})`, DEPLOY_USAGE);
  }
}

function parseHolders(text: string): { account_id: string; amount: string }[] {
  return text.split(",").map((pair) => {
    const [id, tokens] = pair.split("=");
    if (id === undefined || tokens === undefined || !/^\d+$/.test(tokens)) {
      throw usageError(`--holders: "${pair}" is not <account>=<whole tokens>`, DEPLOY_USAGE);
    }
    return { account_id: id, amount: (BigInt(tokens) * 10n ** 24n).toString() };
  });
}

export async function deployCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(
    argv,
    {
      "no-build": { type: "boolean", default: false },
      "fund-each": { type: "string" },
      holders: { type: "string" },
      "gov-config": { type: "string" },
      "registry-params": { type: "string" },
      "escrow-params": { type: "string" },
      arbiter: { type: "string" },
      "dev-mode": { type: "boolean" },
      "no-dev-mode": { type: "boolean" },
      "keep-keys": { type: "boolean", default: false },
    },
    DEPLOY_USAGE,
  );
  if (values.help) {
    process.stdout.write(`${DEPLOY_USAGE}\n`);
    return;
  }
  const ctx = context(values);
  await deployMarket(
    {
      chain: ctx.chain,
      creds: ctx.creds,
      master: ctx.account("pays for the deployment"),
      accounts: { registry: values.registry, escrow: values.escrow, governance: values.governance },
      build: !values["no-build"],
      fundEach:
        values["fund-each"] === undefined
          ? undefined
          : parseNear(values["fund-each"], "--fund-each"),
      holders: values.holders === undefined ? undefined : parseHolders(values.holders),
      governanceConfig: jsonFlag(values["gov-config"], "--gov-config"),
      registryParams: jsonFlag(values["registry-params"], "--registry-params"),
      escrowParams: jsonFlag(values["escrow-params"], "--escrow-params"),
      arbiter: values.arbiter,
      devMode: values["no-dev-mode"]
        ? false
        : (values["dev-mode"] ?? ctx.chain.network.id === "localnet"),
      keepKeys: values["keep-keys"] ?? false,
      deploymentPath: ctx.deploymentPath,
    },
    ctx.io,
  );
}
