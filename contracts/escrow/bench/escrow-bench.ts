/**
 * Gas of every escrow method (deliver_job with its signed receipt, fail_job, the session methods)
 * and of whole job lifecycles (create, accept, deliver, settle, withdraw) in NEAR and in the usdc test token, measured on localnet (or a real near-sandbox given
 * through NEAR_SANDBOX_BINARY_PATH) beside the real registry. Needs a contract build
 * (`npm run build:contracts`). Prints Markdown tables; BENCHMARKS.md records a run.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { KeyPair, type NearAccount, type TransactionResult, Worker } from "near-workspaces";
import { contractWasm } from "../../../sandbox-tests/src/contracts.ts";
import { configureSandboxBinary } from "../../../sandbox-tests/src/sandbox-env.ts";
import {
  HARDWARE,
  keysetArgs,
  machineKeyProof,
  newEvidence,
  newKeyset,
} from "../../../sandbox-tests/test/registry/fixtures.ts";

const ONE_NEAR = 10n ** 24n;
const TGAS = 10n ** 12n;
const MAX_GAS = 300n * TGAS;
const USDC = 1_000_000n;
const PRICE = 1_000n;
const SECOND_NS = 1_000_000_000n;
const RESPONSE_HASH = "cc".repeat(32);
const INPUT_HASH = "bb".repeat(32);

interface Row {
  method: string;
  case: string;
  tgas: number;
  receipts: number;
}

const rows: Row[] = [];
/** Per-receipt gas of the multi-receipt calls: which contract burnt what. */
const breakdowns: { label: string; receipts: string[] }[] = [];

interface RawOutcome {
  outcome: { executor_id: string; gas_burnt: number; logs: string[] };
}

function breakdown(label: string, result: TransactionResult): void {
  const outcomes = (result.result as unknown as { receipts_outcome: RawOutcome[] })
    .receipts_outcome;
  breakdowns.push({
    label,
    receipts: outcomes
      // Gas refunds to the signer burn nothing worth listing.
      .filter((o) => o.outcome.gas_burnt > 300_000_000_000)
      .map((o) => `${o.outcome.executor_id} ${(o.outcome.gas_burnt / 1e12).toFixed(2)}`),
  });
}
const tgasOf = (result: TransactionResult): number => Number(result.gas_burnt) / 1e12;

async function run(
  caller: NearAccount,
  contract: NearAccount,
  method: string,
  args: Record<string, unknown> | Uint8Array,
  deposit = 0n,
): Promise<TransactionResult> {
  const result = await caller.callRaw(contract, method, args, {
    gas: MAX_GAS,
    attachedDeposit: deposit,
  });
  if (result.failed) {
    throw new Error(`${method} failed: ${result.receiptFailureMessages.join("\n")}`);
  }
  return result;
}

/** Runs a call and records its gas under `method` / `what`. */
async function measure(
  what: string,
  caller: NearAccount,
  contract: NearAccount,
  method: string,
  args: Record<string, unknown> | Uint8Array,
  deposit = 0n,
  label = method,
): Promise<TransactionResult> {
  const result = await run(caller, contract, method, args, deposit);
  rows.push({
    method: label,
    case: what,
    tgas: tgasOf(result),
    receipts: result.receipts_outcomes.length,
  });
  return result;
}

function createdJobId(result: TransactionResult): string {
  for (const line of result.logs) {
    if (line.startsWith("EVENT_JSON:")) {
      const event = JSON.parse(line.slice("EVENT_JSON:".length));
      if (event.event === "job_created") return event.data[0].id;
    }
  }
  throw new Error(`no job_created in ${result.logs.join("\n")}`);
}

/** The machine key's signature over sha256 of a signed document (canonical JSON of strings). */
function signDocument(keyPair: KeyPair, fields: Record<string, string>): string {
  const sorted = Object.keys(fields)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${JSON.stringify(fields[key])}`);
  const digest = createHash("sha256")
    .update(`{${sorted.join(",")}}`)
    .digest();
  return Buffer.from(keyPair.sign(digest).signature).toString("hex");
}

async function main(): Promise<void> {
  configureSandboxBinary();
  const worker = await Worker.init();
  try {
    const root = worker.rootAccount;
    const make = (name: string) => root.createSubAccount(name, { initialBalance: 100n * ONE_NEAR });
    // One at a time: the root account's transactions share one nonce sequence.
    const gov = await make("gov");
    const treasury = await make("treasury");
    const arbiter = await make("arbiter");
    const provider = await make("provider");
    const alice = await make("alice");
    const agent = await make("agent");
    const registry = await make("registry");
    const usdc = await make("usdc");
    const escrow = await make("escrow");

    await registry.deploy(readFileSync(contractWasm("registry")));
    await run(registry, registry, "init", {
      owner: gov.accountId,
      treasury: treasury.accountId,
      params: {},
    });
    await run(gov, registry, "set_dev_mode", { enabled: true });
    await run(
      provider,
      registry,
      "register_provider",
      { name: "P", endpoint: "https://p.example.com", region: "eu-west-1" },
      3n * ONE_NEAR,
    );
    const keyPair = KeyPair.fromRandom("ed25519");
    const publicKey = keyPair.getPublicKey().toString();
    const keyset = newKeyset({
      text: publicKey,
      bytes: Uint8Array.from(keyPair.getPublicKey().data),
      keyPair,
    });
    const model = keyset.models[0];
    if (model === undefined) throw new Error("the fixture keyset has no model");
    const challenge = await run(
      provider,
      registry,
      "request_challenge",
      { machine_public_key: publicKey },
      ONE_NEAR / 100n,
    );
    const { nonce } = challenge.parseResult<{ nonce: string }>();
    const machine = await run(
      provider,
      registry,
      "add_machine",
      {
        ...keysetArgs(keyset),
        tee_type: "none-dev",
        hardware: HARDWARE,
        price_per_unit: PRICE.toString(),
        evidence: newEvidence().base64,
        machine_key_signature: machineKeyProof(
          keyset.key,
          provider.accountId,
          registry.accountId,
          nonce,
        ),
      },
      ONE_NEAR / 10n,
    );
    const { id: machineId, keyset_sha256: keysetSha256 } = machine.parseResult<{
      id: string;
      keyset_sha256: string;
    }>();

    await usdc.deploy(readFileSync(contractWasm("usdc")));
    await run(usdc, usdc, "init", {
      owner_id: usdc.accountId,
      total_supply: (1_000_000n * USDC).toString(),
    });
    for (const account of [escrow, treasury, provider, alice]) {
      await run(account, usdc, "storage_deposit", {}, ONE_NEAR / 100n);
    }
    await run(usdc, usdc, "mint", {
      account_id: alice.accountId,
      amount: (10_000n * USDC).toString(),
    });

    await escrow.deploy(readFileSync(contractWasm("escrow")));
    const params = {
      fee_bps: 100,
      dispute_window_ns: (2n * SECOND_NS).toString(),
      arbitration_window_ns: (2n * SECOND_NS).toString(),
      min_accept_ns: SECOND_NS.toString(),
      min_deliver_ns: SECOND_NS.toString(),
    };
    await measure("", escrow, escrow, "init", {
      owner: gov.accountId,
      treasury: treasury.accountId,
      arbiter: arbiter.accountId,
      registry: registry.accountId,
      params,
    });
    await measure("one field", gov, escrow, "set_params", { params: { fee_bps: 100 } });
    await measure("", gov, escrow, "set_arbiter", { arbiter: arbiter.accountId });
    await measure("", gov, escrow, "set_treasury", { treasury: treasury.accountId });
    await measure("", gov, escrow, "allow_token", { token: provider.accountId });
    await measure("", gov, escrow, "disallow_token", { token: provider.accountId });
    await run(gov, escrow, "allow_token", { token: usdc.accountId });
    await measure("registration (with a refund)", alice, escrow, "storage_deposit", {}, ONE_NEAR);
    await measure("top-up", alice, escrow, "storage_deposit", {}, ONE_NEAR);
    await measure(
      "part (transfer)",
      alice,
      escrow,
      "storage_withdraw",
      { amount: (ONE_NEAR / 2n).toString() },
      1n,
    );
    await run(agent, escrow, "storage_deposit", {}, ONE_NEAR / 10n);

    const jobArgs = {
      machine_id: machineId,
      model_hash: model.weights_sha256,
      input_hash: INPUT_HASH,
      keyset_sha256: keysetSha256,
      accept_within_ns: (3600n * SECOND_NS).toString(),
      deliver_within_ns: (3600n * SECOND_NS).toString(),
      max_price_per_unit: PRICE.toString(),
    };
    const usage = 10n ** 19n;
    const lifecycles: { asset: string; steps: [string, number][] }[] = [];

    // Lifecycle in NEAR.
    const near: [string, number][] = [];
    let result = await measure(
      "attached NEAR (+ is_eligible + callback)",
      alice,
      escrow,
      "create_job",
      jobArgs,
      ONE_NEAR,
    );
    near.push(["create_job", tgasOf(result)]);
    breakdown("create_job with attached NEAR", result);
    let id = createdJobId(result);
    result = await measure("", provider, escrow, "accept_job", { job_id: id });
    near.push(["accept_job", tgasOf(result)]);
    const deliver = (jobId: string, units: bigint) => {
      const receipt = {
        model: model.name,
        weights_sha256: model.weights_sha256,
        request_sha256: INPUT_HASH,
        response_sha256: RESPONSE_HASH,
        prompt_tokens: (units / 2n).toString(),
        completion_tokens: (units - units / 2n).toString(),
        chunks: "12",
      };
      const signed = { ...receipt, version: "gpumarket/v1/receipt", escrow: escrow.accountId };
      return {
        job_id: jobId,
        receipt,
        signature: signDocument(keyPair, { ...signed, job_id: jobId }),
      };
    };
    result = await measure(
      "receipt checked, canonical JSON hashed, ed25519 verified",
      provider,
      escrow,
      "deliver_job",
      deliver(id, usage),
    );
    near.push(["deliver_job", tgasOf(result)]);
    await worker.provider.fastForward(5);
    result = await measure("after the dispute window", alice, escrow, "settle_job", { job_id: id });
    near.push(["settle_job", tgasOf(result)]);
    result = await measure(
      "NEAR (transfer + on_withdraw)",
      provider,
      escrow,
      "withdraw",
      { asset: "NEAR" },
      1n,
    );
    near.push(["withdraw (provider)", tgasOf(result)]);
    breakdown("withdraw NEAR", result);
    lifecycles.push({ asset: "NEAR", steps: near });

    // Lifecycle in the token.
    const token: [string, number][] = [];
    result = await measure(
      "create_job through usdc.ft_transfer_call (whole chain)",
      alice,
      usdc,
      "ft_transfer_call",
      {
        receiver_id: escrow.accountId,
        amount: (100n * USDC).toString(),
        msg: JSON.stringify({ action: "create_job", job: jobArgs }),
      },
      1n,
      "ft_on_transfer",
    );
    token.push(["create_job (ft_transfer_call)", tgasOf(result)]);
    breakdown("ft_transfer_call creating a job", result);
    id = createdJobId(result);
    result = await run(provider, escrow, "accept_job", { job_id: id });
    token.push(["accept_job", tgasOf(result)]);
    result = await run(provider, escrow, "deliver_job", deliver(id, 40_000n));
    token.push(["deliver_job", tgasOf(result)]);
    await worker.provider.fastForward(5);
    result = await run(alice, escrow, "settle_job", { job_id: id });
    token.push(["settle_job", tgasOf(result)]);
    result = await measure(
      "token (ft_transfer + on_withdraw)",
      provider,
      escrow,
      "withdraw",
      { asset: usdc.accountId },
      1n,
    );
    token.push(["withdraw (provider)", tgasOf(result)]);
    breakdown("withdraw usdc", result);
    lifecycles.push({ asset: "usdc (NEP-141)", steps: token });

    // Other paths.
    await measure(
      "deposit through usdc.ft_transfer_call (whole chain)",
      alice,
      usdc,
      "ft_transfer_call",
      {
        receiver_id: escrow.accountId,
        amount: (50n * USDC).toString(),
        msg: '{"action":"deposit"}',
      },
      1n,
      "ft_on_transfer",
    );
    await measure("NEAR", alice, escrow, "deposit", {}, 5n * ONE_NEAR);
    await measure("from own balance", alice, escrow, "create_job", {
      ...jobArgs,
      asset: "NEAR",
      max_amount: ONE_NEAR.toString(),
    });
    await measure("new", alice, escrow, "set_allowance", {
      spender: agent.accountId,
      asset: "NEAR",
      limit: ONE_NEAR.toString(),
      period_ns: (3600n * SECOND_NS).toString(),
    });
    result = await measure("within an allowance", agent, escrow, "create_job", {
      ...jobArgs,
      asset: "NEAR",
      max_amount: (ONE_NEAR / 2n).toString(),
      payer: alice.accountId,
    });
    const cancelId = createdJobId(result);
    await measure("", alice, escrow, "cancel_job", { job_id: cancelId });
    result = await measure("above the allowance: approval request", agent, escrow, "create_job", {
      ...jobArgs,
      asset: "NEAR",
      max_amount: ONE_NEAR.toString(),
      payer: alice.accountId,
    });
    const approvalId = result.parseResult<{ id: string }>().id;
    result = await measure("(+ is_eligible + callback)", alice, escrow, "approve_job", {
      approval_id: approvalId,
    });
    const disputedId = createdJobId(result);
    result = await run(agent, escrow, "create_job", {
      ...jobArgs,
      asset: "NEAR",
      max_amount: ONE_NEAR.toString(),
      payer: alice.accountId,
    });
    await measure("", alice, escrow, "reject_approval", {
      approval_id: result.parseResult<{ id: string }>().id,
    });
    await measure("", alice, escrow, "remove_allowance", {
      spender: agent.accountId,
      asset: "NEAR",
    });

    await run(provider, escrow, "accept_job", { job_id: disputedId });
    await run(provider, escrow, "deliver_job", deliver(disputedId, usage));
    await measure("", alice, escrow, "dispute_job", { job_id: disputedId, reason: "wrong output" });
    await measure("", arbiter, escrow, "request_slash", {
      job_id: disputedId,
      reason: "forged results",
    });
    await measure("split", arbiter, escrow, "resolve_dispute", {
      job_id: disputedId,
      provider_amount: (ONE_NEAR / 2n).toString(),
    });
    result = await run(
      alice,
      escrow,
      "create_job",
      { ...jobArgs, accept_within_ns: SECOND_NS.toString() },
      ONE_NEAR,
    );
    await worker.provider.fastForward(3);
    await measure("accept timeout", alice, escrow, "reclaim_job", { job_id: createdJobId(result) });
    result = await run(alice, escrow, "create_job", jobArgs, ONE_NEAR);
    const failId = createdJobId(result);
    await run(provider, escrow, "accept_job", { job_id: failId });
    const code = "backend_unavailable";
    await measure("accepted job, ed25519 verified, full refund", provider, escrow, "fail_job", {
      job_id: failId,
      code,
      signature: signDocument(keyPair, {
        version: "gpumarket/v1/failure",
        escrow: escrow.accountId,
        job_id: failId,
        code,
      }),
    });
    // Sessions: open (registry round trip), a claim, a provider close with its last voucher,
    // the client's early settle; a second one closed, disputed and resolved by the arbiter.
    const sessionKey = KeyPair.fromRandom("ed25519");
    const sessionArgs = {
      machine_id: machineId,
      client_key: sessionKey.getPublicKey().toString(),
      keyset_sha256: keysetSha256,
      max_price_per_unit: PRICE.toString(),
      expires_within_ns: (3600n * SECOND_NS).toString(),
    };
    const voucher = (sessionId: string, amount: bigint, nonce: bigint) => ({
      amount: amount.toString(),
      nonce: nonce.toString(),
      signature: signDocument(sessionKey, {
        version: "gpumarket/v1/voucher",
        escrow: escrow.accountId,
        session_id: sessionId,
        amount: amount.toString(),
        nonce: nonce.toString(),
      }),
    });
    const openedSessionId = (opened: TransactionResult): string => {
      for (const line of opened.logs) {
        const event = line.startsWith("EVENT_JSON:")
          ? JSON.parse(line.slice("EVENT_JSON:".length))
          : null;
        if (event?.event === "session_opened") return event.data[0].id;
      }
      throw new Error(`no session_opened in ${opened.logs.join("\n")}`);
    };
    result = await measure(
      "attached NEAR (+ is_eligible + callback)",
      alice,
      escrow,
      "open_session",
      sessionArgs,
      ONE_NEAR,
    );
    breakdown("open_session with attached NEAR", result);
    let sessionId = openedSessionId(result);
    await measure("voucher ed25519 verified", provider, escrow, "claim_session", {
      session_id: sessionId,
      ...voucher(sessionId, ONE_NEAR / 10n, 1n),
    });
    await measure("by the provider, with its last voucher", provider, escrow, "close_session", {
      session_id: sessionId,
      voucher: voucher(sessionId, ONE_NEAR / 5n, 2n),
    });
    await measure("by the client, before the window ends", alice, escrow, "settle_session", {
      session_id: sessionId,
    });
    result = await measure(
      "ft_transfer_call (whole chain)",
      alice,
      usdc,
      "ft_transfer_call",
      {
        receiver_id: escrow.accountId,
        amount: (10n * USDC).toString(),
        msg: JSON.stringify({ action: "open_session", session: sessionArgs }),
      },
      1n,
      "open_session",
    );
    sessionId = openedSessionId(result);
    await run(provider, escrow, "close_session", {
      session_id: sessionId,
      voucher: voucher(sessionId, USDC, 1n),
    });
    await measure("", alice, escrow, "dispute_session", { session_id: sessionId, reason: "slow" });
    await measure("split", arbiter, escrow, "resolve_session", {
      session_id: sessionId,
      provider_amount: (USDC / 2n).toString(),
    });
    result = await measure(
      "same code (deploy + migrate)",
      gov,
      escrow,
      "upgrade",
      new Uint8Array(readFileSync(contractWasm("escrow"))),
    );
    breakdown("upgrade (deploy + migrate in one receipt)", result);
    // Early reclaim: the machine is no longer eligible (deactivated), so the client takes it back.
    result = await run(alice, escrow, "create_job", jobArgs, ONE_NEAR);
    const ineligibleId = createdJobId(result);
    await run(provider, registry, "deactivate_machine", { machine_id: machineId }, ONE_NEAR / 100n);
    result = await measure(
      "machine ineligible (+ is_eligible + callback)",
      alice,
      escrow,
      "reclaim_job",
      {
        job_id: ineligibleId,
      },
    );
    breakdown("reclaim_job before the deadline, machine ineligible", result);
    // The registry's withdraw_bond asks the escrow about the provider's delivered jobs.
    await run(gov, registry, "set_params", { params: { unbonding_period_ns: "1" } });
    await run(gov, registry, "set_escrow", { escrow: escrow.accountId });
    await run(provider, registry, "retire_provider", {}, ONE_NEAR / 100n);
    await worker.provider.fastForward(2);
    result = await measure(
      "registry withdraw_bond (+ provider_exposure + on_bond_check)",
      provider,
      registry,
      "withdraw_bond",
      {},
      0n,
      "withdraw_bond",
    );
    breakdown("registry withdraw_bond asking the escrow", result);

    console.log("| method | case | gas, whole tx (Tgas) | receipts |");
    console.log("|---|---|---:|---:|");
    for (const row of rows) {
      console.log(`| ${row.method} | ${row.case} | ${row.tgas.toFixed(2)} | ${row.receipts} |`);
    }
    for (const { asset, steps } of lifecycles) {
      console.log("");
      console.log(`Lifecycle in ${asset}:`);
      console.log("");
      console.log("| step | gas (Tgas) |");
      console.log("|---|---:|");
      for (const [step, gas] of steps) console.log(`| ${step} | ${gas.toFixed(2)} |`);
      const total = steps.reduce((sum, [, gas]) => sum + gas, 0);
      console.log(`| **total** | **${total.toFixed(2)}** |`);
    }
    console.log("");
    console.log("Receipts (executor, Tgas burnt), in execution order:");
    console.log("");
    for (const { label, receipts } of breakdowns) {
      console.log(`- ${label}: ${receipts.join("; ")}`);
    }
  } finally {
    await worker.tearDown();
  }
}

await main();
