/**
 * Every change method of the registry, the escrow and the governance contract, tried with each
 * class of bad input: a required field missing, a field of the wrong type, a value too long, a
 * number spelled non-canonically, an unknown field, the wrong caller, and too little deposit (or,
 * for methods that take none, too little gas). Each attempt must fail, emit nothing, leave the
 * contract's storage as it was, cost the caller only gas (any deposit came back) and take no money
 * from the contract. The run prints the table of what was tried.
 */
import { readFileSync } from "node:fs";
import type { NearAccount } from "near-workspaces";
import { afterAll, beforeAll, expect, test } from "vitest";
import { contractWasm } from "../src/contracts.ts";
import {
  createNearJob,
  deliverArgs,
  failArgs,
  jobFields,
  MAX_GAS,
  newSessionKey,
  openNearSession,
  type SessionKey,
  sessionFields,
  setupWorld,
  voucher,
  type World,
} from "./escrow/helpers.ts";
import {
  addMachine,
  balanceOf,
  callOk,
  callRaw,
  eventsOf,
  GAS_FEE_BOUND,
  MEASUREMENTS,
  ONE_NEAR,
  requestChallenge,
  stateOf,
  TGAS,
  verdictArgs,
} from "./registry/helpers.ts";

const CLASSES = [
  "missing",
  "wrong type",
  "too long",
  "non-canonical number",
  "unknown field",
  "wrong caller",
  "too little deposit/gas",
] as const;
type BadClass = (typeof CLASSES)[number];

type ContractName = "registry" | "escrow" | "governance";

interface Spec {
  contract: ContractName;
  method: string;
  /** Who may call it; the wrong-caller class uses `stranger` unless `open`. */
  caller: () => NearAccount;
  /** Well-formed arguments (the call itself may still be refused for the state it finds). */
  args: () => Record<string, unknown> | Uint8Array;
  /** The field the missing class removes (none: every field is optional). */
  required?: string;
  /** A numeric field: a string u64/u128 (spelled "01") or a JSON integer (given as 1.5). */
  number?: string;
  /** The deposit the method takes; 0: it takes none (too little gas is tried instead). */
  deposit?: bigint;
  /** Anyone may call it: no wrong caller. */
  open?: boolean;
  /** A private callback: only the contract itself may call it (every class from outside). */
  private?: boolean;
  /** The too-little deposit, when 1 yoctoNEAR would be a valid amount (0 then). */
  tooLittle?: bigint;
}

interface Variant {
  args: Record<string, unknown> | Uint8Array;
  caller: NearAccount;
  deposit: bigint;
  gas: bigint;
}

const LONG = "x".repeat(5000);

let world: World;
let gov: NearAccount;
let stranger: NearAccount;
let verifier: NearAccount;
let machineId: string;
let evidenceHash: string;
let jobId: string;
let deliveredJobId: string;
let approvalId: string;
let sessionKey: SessionKey;
let openSessionId: string;
let closingSessionId: string;
const contracts = {} as Record<ContractName, NearAccount>;

beforeAll(async () => {
  world = await setupWorld();
  const root = world.root;
  stranger = await root.createSubAccount("stranger", { initialBalance: 50n * ONE_NEAR });
  verifier = await root.createSubAccount("verifier", { initialBalance: 20n * ONE_NEAR });
  gov = await root.createSubAccount("dao", { initialBalance: 30n * ONE_NEAR });
  await gov.deploy(readFileSync(contractWasm("governance")));
  await callOk(gov, gov, {
    method: "init",
    args: {
      holders: [
        { account_id: world.alice.accountId, amount: (600n * 10n ** 24n).toString() },
        { account_id: world.bob.accountId, amount: (400n * 10n ** 24n).toString() },
      ],
      config: {
        governed: [world.registry.accountId, world.escrow.accountId],
        proposal_threshold: "1",
      },
    },
  });
  contracts.registry = world.registry;
  contracts.escrow = world.escrow;
  contracts.governance = gov;
  await callOk(world.gov, world.registry, {
    method: "add_verifier",
    args: { account_id: verifier.accountId },
  });
  const machine = await addMachine(world.registry, world.provider);
  machineId = machine.id;
  evidenceHash = machine.evidence.hash;
  // An open challenge, so that submit_evidence's bad inputs are refused for themselves.
  await requestChallenge(world.registry, world.provider, machine.key);
  jobId = (await createNearJob(world, world.alice, ONE_NEAR)).id;
  const delivered = await createNearJob(world, world.alice, ONE_NEAR);
  await callOk(world.provider, world.escrow, {
    method: "accept_job",
    args: { job_id: delivered.id },
    gas: 200n * TGAS,
  });
  await callOk(world.provider, world.escrow, {
    method: "deliver_job",
    args: deliverArgs(world, delivered.id, 10n),
    gas: 200n * TGAS,
  });
  deliveredJobId = delivered.id;
  await callOk(world.alice, world.escrow, {
    method: "set_allowance",
    args: { spender: world.bob.accountId, asset: "NEAR", limit: "1", period_ns: "1000000000" },
  });
  approvalId = (
    await callOk(world.bob, world.escrow, {
      method: "create_job",
      args: {
        ...jobFields(world.machine),
        payer: world.alice.accountId,
        asset: "NEAR",
        max_amount: "5",
      },
      gas: MAX_GAS,
    })
  ).parseResult<{ id: string }>().id;
  sessionKey = newSessionKey();
  openSessionId = (await openNearSession(world, world.alice, sessionKey, ONE_NEAR)).id;
  closingSessionId = (await openNearSession(world, world.alice, sessionKey, ONE_NEAR)).id;
  await callOk(world.provider, world.escrow, {
    method: "close_session",
    args: { session_id: closingSessionId },
  });
  await callOk(world.alice, gov, {
    method: "delegate",
    args: { delegatee: world.alice.accountId },
    deposit: 1n,
  });
}, 300_000);

afterAll(async () => {
  await world?.worker.tearDown();
});

const owner = () => world.gov;
const provider = () => world.provider;
const alice = () => world.alice;
const job = () => ({ job_id: jobId });
const MODELS = [{ name: "llama-3.1-8b-instruct", weights_sha256: "ab".repeat(32) }];
const KEYSET = {
  machine_public_key: "ed25519:DcA2MzgpJbrUATQLLceocVckhhAqrkingax4oJ9kZ847",
  encryption_key: `x25519:${"cd".repeat(32)}`,
  models: MODELS,
};

const SPECS: Spec[] = [
  // Registry
  {
    contract: "registry",
    method: "register_provider",
    caller: () => stranger,
    open: true,
    deposit: 2n * ONE_NEAR,
    required: "name",
    args: () => ({ name: "p", endpoint: "https://p.example/v1", region: "eu-west-1" }),
  },
  {
    contract: "registry",
    method: "update_provider",
    caller: provider,
    deposit: ONE_NEAR / 100n,
    args: () => ({ name: "a provider name long enough to need more storage than it had" }),
  },
  { contract: "registry", method: "pause_provider", caller: provider, args: () => ({}) },
  { contract: "registry", method: "resume_provider", caller: provider, args: () => ({}) },
  {
    contract: "registry",
    method: "retire_provider",
    caller: provider,
    deposit: ONE_NEAR / 100n,
    args: () => ({}),
  },
  { contract: "registry", method: "withdraw_bond", caller: provider, args: () => ({}) },
  {
    contract: "registry",
    method: "on_bond_check",
    caller: provider,
    private: true,
    args: () => ({ provider: world.provider.accountId, escrow: world.escrow.accountId }),
  },
  {
    contract: "registry",
    method: "slash_provider",
    caller: owner,
    required: "reason",
    number: "amount",
    args: () => ({ provider: world.provider.accountId, amount: "1", reason: "test" }),
  },
  {
    contract: "registry",
    method: "request_challenge",
    caller: provider,
    deposit: ONE_NEAR / 100n,
    required: "machine_public_key",
    args: () => ({ machine_public_key: KEYSET.machine_public_key }),
  },
  {
    contract: "registry",
    method: "add_machine",
    caller: provider,
    deposit: ONE_NEAR / 10n,
    required: "evidence",
    number: "price_per_unit",
    args: () => ({
      ...KEYSET,
      tee_type: "tdx",
      hardware: {
        gpus: [
          { model: "H100", count: 1, vram_mib: 81559, driver: "580", vbios: "96", cc_mode: "on" },
        ],
        cpu_cores: 16,
        ram_mib: 131072,
      },
      price_per_unit: "1000",
      evidence: "AAAA",
      machine_key_signature: "ab".repeat(64),
    }),
  },
  {
    contract: "registry",
    method: "submit_evidence",
    caller: provider,
    // It consumes the challenge: it frees more than it stores, so too little gas is what applies.
    deposit: 0n,
    required: "evidence",
    number: "machine_id",
    args: () => ({ machine_id: machineId, evidence: "AAAA" }),
  },
  {
    contract: "registry",
    method: "update_machine_price",
    caller: provider,
    deposit: ONE_NEAR / 100n,
    required: "price_per_unit",
    number: "price_per_unit",
    args: () => ({ machine_id: machineId, price_per_unit: "1000000000000000000000" }),
  },
  {
    contract: "registry",
    method: "deactivate_machine",
    caller: provider,
    required: "machine_id",
    number: "machine_id",
    args: () => ({ machine_id: machineId }),
  },
  {
    contract: "registry",
    method: "reactivate_machine",
    caller: provider,
    required: "machine_id",
    number: "machine_id",
    args: () => ({ machine_id: machineId }),
  },
  {
    contract: "registry",
    method: "remove_machine",
    caller: provider,
    required: "machine_id",
    number: "machine_id",
    args: () => ({ machine_id: machineId }),
  },
  {
    contract: "registry",
    method: "post_verdict",
    caller: () => verifier,
    deposit: ONE_NEAR / 10n,
    required: "evidence_hash",
    number: "machine_id",
    args: () => verdictArgs(machineId, evidenceHash, true, MEASUREMENTS),
  },
  {
    contract: "registry",
    method: "add_verifier",
    caller: owner,
    required: "account_id",
    args: () => ({ account_id: "v9.test.near" }),
  },
  {
    contract: "registry",
    method: "remove_verifier",
    caller: owner,
    required: "account_id",
    args: () => ({ account_id: verifier.accountId }),
  },
  {
    contract: "registry",
    method: "set_threshold",
    caller: owner,
    required: "threshold",
    number: "threshold",
    args: () => ({ threshold: 1 }),
  },
  {
    contract: "registry",
    method: "allow_measurement",
    caller: owner,
    required: "label",
    args: () => ({ measurement_id: "ef".repeat(32), label: "image" }),
  },
  {
    contract: "registry",
    method: "revoke_measurement",
    caller: owner,
    required: "measurement_id",
    args: () => ({ measurement_id: "ef".repeat(32) }),
  },
  {
    contract: "registry",
    method: "set_dev_mode",
    caller: owner,
    required: "enabled",
    args: () => ({ enabled: true }),
  },
  {
    contract: "registry",
    method: "set_params",
    caller: owner,
    required: "params",
    number: "params",
    args: () => ({ params: { min_bond: "1" } }),
  },
  {
    contract: "registry",
    method: "set_escrow",
    caller: owner,
    required: "escrow",
    args: () => ({ escrow: world.escrow.accountId }),
  },
  {
    contract: "registry",
    method: "upgrade",
    caller: owner,
    args: () => new Uint8Array(readFileSync(contractWasm("registry"))),
  },
  { contract: "registry", method: "migrate", caller: owner, private: true, args: () => ({}) },
  // Escrow
  {
    contract: "escrow",
    method: "set_params",
    caller: owner,
    required: "params",
    number: "params",
    args: () => ({ params: { fee_bps: 10 } }),
  },
  {
    contract: "escrow",
    method: "set_arbiter",
    caller: owner,
    required: "arbiter",
    args: () => ({ arbiter: "arb.test.near" }),
  },
  {
    contract: "escrow",
    method: "set_treasury",
    caller: owner,
    required: "treasury",
    args: () => ({ treasury: "t.test.near" }),
  },
  {
    contract: "escrow",
    method: "allow_token",
    caller: owner,
    required: "token",
    args: () => ({ token: "tok.test.near" }),
  },
  {
    contract: "escrow",
    method: "disallow_token",
    caller: owner,
    required: "token",
    args: () => ({ token: world.usdc.accountId }),
  },
  {
    contract: "escrow",
    method: "storage_deposit",
    caller: () => stranger,
    open: true,
    deposit: ONE_NEAR / 10n,
    args: () => ({ account_id: stranger.accountId }),
  },
  {
    contract: "escrow",
    method: "storage_withdraw",
    caller: alice,
    open: true,
    deposit: 1n,
    number: "amount",
    args: () => ({ amount: "1" }),
  },
  {
    contract: "escrow",
    method: "deposit",
    caller: alice,
    open: true,
    deposit: ONE_NEAR,
    tooLittle: 0n,
    args: () => ({}),
  },
  {
    contract: "escrow",
    method: "withdraw",
    caller: alice,
    open: true,
    deposit: 1n,
    required: "asset",
    number: "amount",
    args: () => ({ asset: "NEAR", amount: "1" }),
  },
  {
    contract: "escrow",
    method: "on_withdraw",
    caller: alice,
    private: true,
    args: () => ({ account: world.alice.accountId, asset: "NEAR", amount: "1" }),
  },
  {
    contract: "escrow",
    method: "ft_on_transfer",
    caller: () => world.usdc,
    required: "msg",
    number: "amount",
    args: () => ({ sender_id: world.alice.accountId, amount: "5", msg: '{"action":"deposit"}' }),
  },
  {
    contract: "escrow",
    method: "create_job",
    caller: alice,
    open: true,
    deposit: ONE_NEAR,
    tooLittle: 0n,
    required: "machine_id",
    number: "machine_id",
    args: () => jobFields(world.machine),
  },
  {
    contract: "escrow",
    method: "on_eligibility",
    caller: alice,
    private: true,
    args: () => ({ request: {}, allowance_period: null }),
  },
  {
    contract: "escrow",
    method: "accept_job",
    caller: provider,
    required: "job_id",
    number: "job_id",
    args: job,
  },
  { contract: "escrow", method: "on_accept", caller: provider, private: true, args: job },
  {
    contract: "escrow",
    method: "deliver_job",
    caller: provider,
    required: "signature",
    number: "job_id",
    args: () => deliverArgs(world, jobId, 5n),
  },
  {
    contract: "escrow",
    method: "on_deliver",
    caller: provider,
    private: true,
    args: () => deliverArgs(world, jobId, 5n),
  },
  {
    contract: "escrow",
    method: "fail_job",
    caller: provider,
    required: "code",
    number: "job_id",
    args: () => failArgs(world, jobId),
  },
  {
    contract: "escrow",
    method: "confirm_job",
    caller: alice,
    required: "job_id",
    number: "job_id",
    args: () => ({ job_id: deliveredJobId }),
  },
  {
    contract: "escrow",
    method: "settle_job",
    caller: alice,
    open: true,
    required: "job_id",
    number: "job_id",
    args: () => ({ job_id: deliveredJobId }),
  },
  {
    contract: "escrow",
    method: "cancel_job",
    caller: alice,
    required: "job_id",
    number: "job_id",
    args: job,
  },
  {
    contract: "escrow",
    method: "reclaim_job",
    caller: alice,
    required: "job_id",
    number: "job_id",
    args: job,
  },
  { contract: "escrow", method: "on_reclaim", caller: alice, private: true, args: job },
  {
    contract: "escrow",
    method: "dispute_job",
    caller: alice,
    required: "reason",
    number: "job_id",
    args: () => ({ job_id: deliveredJobId, reason: "bad" }),
  },
  {
    contract: "escrow",
    method: "resolve_dispute",
    caller: () => world.arbiter,
    required: "provider_amount",
    number: "provider_amount",
    args: () => ({ job_id: deliveredJobId, provider_amount: "0" }),
  },
  {
    contract: "escrow",
    method: "request_slash",
    caller: () => world.arbiter,
    required: "reason",
    number: "job_id",
    args: () => ({ job_id: deliveredJobId, reason: "bad" }),
  },
  {
    contract: "escrow",
    method: "open_session",
    caller: alice,
    open: true,
    deposit: ONE_NEAR,
    tooLittle: 0n,
    required: "client_key",
    number: "machine_id",
    args: () => sessionFields(world.machine, newSessionKey()),
  },
  {
    contract: "escrow",
    method: "on_session_eligibility",
    caller: alice,
    private: true,
    args: () => ({ request: {}, allowance_period: null }),
  },
  {
    contract: "escrow",
    method: "claim_session",
    caller: provider,
    required: "signature",
    number: "nonce",
    args: () => ({
      session_id: openSessionId,
      ...voucher(world, openSessionId, sessionKey, 5n, 1n),
    }),
  },
  {
    contract: "escrow",
    method: "close_session",
    caller: provider,
    required: "session_id",
    number: "session_id",
    args: () => ({ session_id: openSessionId }),
  },
  {
    contract: "escrow",
    method: "settle_session",
    caller: provider,
    open: true,
    required: "session_id",
    number: "session_id",
    args: () => ({ session_id: closingSessionId }),
  },
  {
    contract: "escrow",
    method: "dispute_session",
    caller: alice,
    required: "reason",
    number: "session_id",
    args: () => ({ session_id: closingSessionId, reason: "bad" }),
  },
  {
    contract: "escrow",
    method: "resolve_session",
    caller: () => world.arbiter,
    required: "provider_amount",
    number: "provider_amount",
    args: () => ({ session_id: closingSessionId, provider_amount: "0" }),
  },
  {
    contract: "escrow",
    method: "request_session_slash",
    caller: () => world.arbiter,
    required: "reason",
    number: "session_id",
    args: () => ({ session_id: closingSessionId, reason: "bad" }),
  },
  {
    contract: "escrow",
    method: "set_allowance",
    caller: alice,
    open: true,
    required: "limit",
    number: "limit",
    args: () => ({
      spender: world.bob.accountId,
      asset: "NEAR",
      limit: "2",
      period_ns: "1000000000",
    }),
  },
  {
    contract: "escrow",
    method: "remove_allowance",
    caller: alice,
    open: true,
    required: "spender",
    args: () => ({ spender: world.bob.accountId, asset: "NEAR" }),
  },
  {
    contract: "escrow",
    method: "approve_job",
    caller: alice,
    required: "approval_id",
    number: "approval_id",
    args: () => ({ approval_id: approvalId }),
  },
  {
    contract: "escrow",
    method: "reject_approval",
    caller: alice,
    required: "approval_id",
    number: "approval_id",
    args: () => ({ approval_id: approvalId }),
  },
  {
    contract: "escrow",
    method: "upgrade",
    caller: owner,
    args: () => new Uint8Array(readFileSync(contractWasm("escrow"))),
  },
  { contract: "escrow", method: "migrate", caller: owner, private: true, args: () => ({}) },
  // Governance
  {
    contract: "governance",
    method: "ft_transfer",
    caller: alice,
    open: true,
    deposit: 1n,
    required: "receiver_id",
    number: "amount",
    args: () => ({ receiver_id: world.bob.accountId, amount: "1" }),
  },
  {
    contract: "governance",
    method: "ft_transfer_call",
    caller: alice,
    open: true,
    deposit: 1n,
    required: "msg",
    number: "amount",
    args: () => ({ receiver_id: world.bob.accountId, amount: "1", msg: "" }),
  },
  {
    contract: "governance",
    method: "ft_resolve_transfer",
    caller: alice,
    private: true,
    args: () => ({
      sender_id: world.alice.accountId,
      receiver_id: world.bob.accountId,
      amount: "1",
    }),
  },
  {
    contract: "governance",
    method: "storage_deposit",
    caller: () => stranger,
    open: true,
    deposit: ONE_NEAR / 10n,
    args: () => ({ account_id: stranger.accountId }),
  },
  {
    contract: "governance",
    method: "storage_withdraw",
    caller: alice,
    open: true,
    deposit: 1n,
    number: "amount",
    args: () => ({ amount: "1" }),
  },
  {
    contract: "governance",
    method: "storage_unregister",
    caller: alice,
    open: true,
    deposit: 1n,
    args: () => ({ force: false }),
  },
  {
    contract: "governance",
    method: "delegate",
    caller: alice,
    open: true,
    deposit: 1n,
    required: "delegatee",
    args: () => ({ delegatee: world.bob.accountId }),
  },
  {
    contract: "governance",
    method: "store_blob",
    caller: alice,
    open: true,
    deposit: 10n * ONE_NEAR,
    args: () => new Uint8Array(readFileSync(contractWasm("probe"))),
  },
  {
    contract: "governance",
    method: "remove_blob",
    caller: alice,
    required: "code_sha256",
    args: () => ({ code_sha256: "ab".repeat(32) }),
  },
  {
    contract: "governance",
    method: "propose",
    caller: alice,
    deposit: ONE_NEAR / 10n,
    required: "actions",
    args: () => ({ description: "x", actions: [{ kind: "config", config: { quorum_bps: 10 } }] }),
  },
  {
    contract: "governance",
    method: "vote",
    caller: alice,
    deposit: ONE_NEAR / 100n,
    required: "support",
    number: "proposal_id",
    args: () => ({ proposal_id: 0, support: "for" }),
  },
  {
    contract: "governance",
    method: "queue",
    caller: alice,
    open: true,
    required: "proposal_id",
    number: "proposal_id",
    args: () => ({ proposal_id: 0 }),
  },
  {
    contract: "governance",
    method: "execute",
    caller: alice,
    open: true,
    required: "proposal_id",
    number: "proposal_id",
    args: () => ({ proposal_id: 0 }),
  },
  {
    contract: "governance",
    method: "cancel",
    caller: alice,
    required: "proposal_id",
    number: "proposal_id",
    args: () => ({ proposal_id: 0 }),
  },
  {
    contract: "governance",
    method: "on_action_done",
    caller: alice,
    private: true,
    args: () => ({ proposal_id: 0, index: 0 }),
  },
  { contract: "governance", method: "migrate", caller: alice, private: true, args: () => ({}) },
];

/** The bad call of `kind` for `spec`, or null when the class does not apply. */
function variant(spec: Spec, kind: BadClass): Variant | null {
  const base = spec.args();
  const deposit = spec.deposit ?? 0n;
  const call = (args: Variant["args"], overrides: Partial<Variant> = {}): Variant => ({
    args,
    caller: spec.caller(),
    deposit,
    gas: MAX_GAS / 2n,
    ...overrides,
  });
  if (base instanceof Uint8Array) {
    // Raw input (wasm): only its shape, its caller and its deposit can be wrong.
    if (kind === "wrong type") return call(new TextEncoder().encode('{"code":"x"}'));
    if (kind === "wrong caller") return spec.open ? null : call(base, { caller: stranger });
    if (kind === "too little deposit/gas") {
      return deposit > 0n ? call(base, { deposit: ONE_NEAR }) : call(base, { gas: TGAS });
    }
    return null;
  }
  const first = Object.keys(base)[0];
  switch (kind) {
    case "missing": {
      if (spec.required === undefined) return null;
      const { [spec.required]: _gone, ...rest } = base;
      return call(rest);
    }
    case "wrong type":
      // Without fields, the arguments themselves: a JSON array instead of an object.
      if (first === undefined) return call(new TextEncoder().encode("[1]"));
      return call({ ...base, [first]: typeof base[first] === "string" ? 42 : "wrong" });
    case "too long": {
      const text = Object.keys(base).find((key) => typeof base[key] === "string");
      return call({ ...base, [text ?? "padding"]: LONG });
    }
    case "non-canonical number": {
      if (spec.number === undefined) return null;
      const value = base[spec.number];
      if (typeof value === "number") return call({ ...base, [spec.number]: value + 0.5 });
      if (typeof value === "string") return call({ ...base, [spec.number]: `0${value}` });
      // A record of numbers (params): a number field inside, spelled with a leading zero.
      const inner = value as Record<string, unknown>;
      const key = Object.keys(inner)[0] as string;
      const spelled = typeof inner[key] === "string" ? `0${inner[key]}` : Number(inner[key]) + 0.5;
      return call({ ...base, [spec.number]: { ...inner, [key]: spelled } });
    }
    case "unknown field":
      return call({ ...base, unexpected_field: true });
    case "wrong caller":
      return spec.open && !spec.private ? null : call(base, { caller: stranger });
    case "too little deposit/gas": {
      if (deposit === 0n) return call(base, { gas: TGAS });
      return call(base, { deposit: spec.tooLittle ?? (deposit === 1n ? 0n : 1n) });
    }
  }
}

/** The call fails, emits nothing, costs its caller only gas and takes nothing from the contract. */
async function tryBad(spec: Spec, bad: Variant): Promise<string> {
  const contract = contracts[spec.contract];
  const callerBefore = await balanceOf(bad.caller);
  const contractBefore = await balanceOf(contract);
  const result = await callRaw(bad.caller, contract, {
    method: spec.method,
    args: bad.args,
    deposit: bad.deposit,
    gas: bad.gas,
  });
  const where = `${spec.contract}.${spec.method}`;
  expect(
    result.failed,
    `${where} should have failed with ${JSON.stringify(bad.args).slice(0, 200)}`,
  ).toBe(true);
  expect(eventsOf(result), where).toEqual([]);
  const spent = callerBefore - (await balanceOf(bad.caller));
  expect(spent, `${where}: the caller lost more than gas`).toBeLessThan(GAS_FEE_BOUND);
  expect((await balanceOf(contract)) >= contractBefore, `${where}: money left the contract`).toBe(
    true,
  );
  const failure = result.receiptFailureMessages.join(" ").replaceAll('\\"', '"');
  const panic = /panicked: ([^\\\n]*)/.exec(failure)?.[1];
  const message =
    panic ??
    (/GasExceeded|Exceeded the prepaid gas/.test(failure) ? "exceeded the prepaid gas" : failure);
  return message.slice(0, 60);
}

test("every change method refuses every class of bad input and changes nothing", async () => {
  const rows: string[] = [];
  const refusals: string[] = [];
  let tried = 0;
  for (const spec of SPECS) {
    const contract = contracts[spec.contract];
    const before = await stateOf(contract);
    const cells: string[] = [];
    for (const kind of CLASSES) {
      const bad = variant(spec, kind);
      if (bad === null) {
        cells.push("n/a");
        continue;
      }
      const message = await tryBad(spec, bad);
      tried++;
      cells.push("refused");
      refusals.push(`${spec.contract}.${spec.method} / ${kind}: ${message}`);
    }
    expect(await stateOf(contract), `${spec.contract}.${spec.method} changed state`).toEqual(
      before,
    );
    rows.push(`| ${spec.contract}.${spec.method} | ${cells.join(" | ")} |`);
  }
  console.log(
    [
      `| method | ${CLASSES.join(" | ")} |`,
      `|---|${CLASSES.map(() => "---").join("|")}|`,
      ...rows,
      "",
      `${tried} bad calls, all refused with state, balances and deposits unchanged. Messages:`,
      ...refusals,
    ].join("\n"),
  );
  expect(tried).toBeGreaterThan(300);
}, 900_000);
