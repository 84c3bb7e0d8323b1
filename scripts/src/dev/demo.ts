/**
 * The demo market `npm start` seeds on a fresh chain: token holders, providers with machines of
 * several GPU models, jobs from two clients, and two proposals. Prices are yoctoNEAR per unit of
 * usage (a token, prompt or completion); a job's amount due is usage x price.
 */

const NEAR = 10n ** 24n;
const TOKEN = 10n ** 24n;

export interface DemoGpu {
  model: string;
  count: number;
  vram_mib: number;
}

export interface DemoMachine {
  gpu: DemoGpu;
  cpuCores: number;
  ramMib: number;
  price: bigint;
}

export interface DemoProvider {
  name: string;
  label: string;
  region: string;
  machines: DemoMachine[];
}

const H100: Omit<DemoGpu, "count"> = { model: "NVIDIA H100 80GB HBM3", vram_mib: 81559 };
const H200: Omit<DemoGpu, "count"> = { model: "NVIDIA H200", vram_mib: 143771 };
const A100: Omit<DemoGpu, "count"> = { model: "NVIDIA A100-SXM4-80GB", vram_mib: 81920 };
const L40S: Omit<DemoGpu, "count"> = { model: "NVIDIA L40S", vram_mib: 46068 };
const RTX4090: Omit<DemoGpu, "count"> = { model: "NVIDIA GeForce RTX 4090", vram_mib: 24564 };

const milli = (n: bigint) => (n * NEAR) / 1_000_000n; // n millionths of a NEAR per unit

/**
 * The model every demo machine lists in its keyset: the tiny llama model-server writes (seed 1),
 * written by the seed into the demo folder, so a provider agent given a demo machine's key file
 * and that file serves it for real.
 */
export const DEMO_MODEL_NAME = "tiny-llama";

/** A demo provider's registered endpoint: its agent on this machine. */
export function demoEndpoint(host: string, port: number): string {
  return `http://${host}:${port}/v1`;
}

export const DEMO_PROVIDERS: DemoProvider[] = [
  {
    name: "gpuhub",
    label: "GPUHub Frankfurt",
    region: "eu-central-1",
    machines: [
      { gpu: { ...H100, count: 8 }, cpuCores: 112, ramMib: 2_097_152, price: milli(800n) },
      { gpu: { ...H100, count: 4 }, cpuCores: 56, ramMib: 1_048_576, price: milli(850n) },
      { gpu: { ...H200, count: 8 }, cpuCores: 112, ramMib: 2_097_152, price: milli(1100n) },
    ],
  },
  {
    name: "nebula",
    label: "Nebula Compute",
    region: "us-east-1",
    machines: [
      { gpu: { ...A100, count: 4 }, cpuCores: 64, ramMib: 524_288, price: milli(500n) },
      { gpu: { ...L40S, count: 2 }, cpuCores: 32, ramMib: 262_144, price: milli(300n) },
    ],
  },
  {
    name: "tensorfarm",
    label: "TensorFarm",
    region: "ap-southeast-1",
    machines: [
      { gpu: { ...RTX4090, count: 1 }, cpuCores: 16, ramMib: 65_536, price: milli(150n) },
      { gpu: { ...L40S, count: 4 }, cpuCores: 48, ramMib: 393_216, price: milli(280n) },
      { gpu: { ...A100, count: 8 }, cpuCores: 128, ramMib: 1_048_576, price: milli(450n) },
    ],
  },
];

/** Governance token holders (24 decimals) besides the master account. */
export const DEMO_HOLDERS: { name: string; tokens: bigint }[] = [
  { name: "alice", tokens: 250_000n * TOKEN },
  { name: "bob", tokens: 150_000n * TOKEN },
];
export const MASTER_TOKENS = 600_000n * TOKEN;

export const DEMO_CLIENTS = ["acme-ai", "agent-007"];
export const DEMO_VERIFIER = "verifier1";

/** Short voting windows so that a proposal goes from vote to execution in a demo's time. */
export const DEMO_GOVERNANCE_CONFIG = {
  voting_delay_blocks: 5,
  voting_period_blocks: 1800,
  timelock_blocks: 10,
};

/**
 * The demo jobs, each run for real through @gpu-market/client against the demo agents: the
 * request is encrypted to the machine's attested key, the tiny model answers on the CPU, the
 * answer comes back encrypted and signed. Each plan ends in a state a job can rest in:
 * - settled: the client checked the delivery and confirmed it;
 * - delivered: checked, left to settle after the dispute window (`confirm: false`);
 * - disputed: delivered, then disputed by the client (the arbiter decides);
 * - requested: paid, but the client never uploaded its request, so no agent accepts it;
 * - refunded: the same, cancelled by the client;
 * - failed: the uploaded request does not decrypt for its job, so the agent gave the job back with
 *   a signed failure (bad_request) and the client was refunded in full.
 */
export type JobPlan = "settled" | "delivered" | "disputed" | "requested" | "refunded" | "failed";

export const DEMO_JOBS: { machine: number; client: number; plan: JobPlan; prompt: string }[] = [
  {
    machine: 0,
    client: 0,
    plan: "settled",
    prompt: "Summarise the NEAR sharding design in one line.",
  },
  { machine: 3, client: 1, plan: "settled", prompt: "Write a haiku about confidential computing." },
  { machine: 5, client: 1, plan: "delivered", prompt: "List three uses of a TEE-attested GPU." },
  { machine: 4, client: 0, plan: "settled", prompt: "Translate 'hello, market' into French." },
  { machine: 2, client: 1, plan: "requested", prompt: "This request is paid but never sent." },
  {
    machine: 6,
    client: 0,
    plan: "refunded",
    prompt: "This request is cancelled before it is sent.",
  },
  { machine: 1, client: 1, plan: "failed", prompt: "This request is sealed for another job." },
  { machine: 1, client: 0, plan: "disputed", prompt: "Explain HPKE to a five-year-old." },
];

/**
 * A session the seed runs: one budget escrowed for one machine, a few chats paid by vouchers (no
 * transaction each), then closed: the provider is paid what the receipts charged, the rest refunded.
 */
export const DEMO_SESSION = {
  machine: 3,
  client: 1,
  budget: 10n ** 24n,
  prompts: [
    "Hello, session: what can you do?",
    "Now say it in five words.",
    "And once more, in three.",
  ],
} as const;

/** Tokens a demo answer may have at most (the tiny model is fast; the demo stays quick). */
export const DEMO_MAX_TOKENS = 24;

/** Deactivated by its provider at the end of seeding: listed, but not eligible. */
export const DEMO_OFFLINE_MACHINE = 7;
