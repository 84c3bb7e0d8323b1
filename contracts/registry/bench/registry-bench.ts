/**
 * Gas of every registry change method and the storage a provider and a machine cost, measured on
 * localnet (or a real near-sandbox given through NEAR_SANDBOX_BINARY_PATH). Needs a contract build
 * (`npm run build:contracts`). Prints a Markdown table; BENCHMARKS.md records a run.
 */
import { readFileSync } from "node:fs";
import { type NearAccount, type TransactionResult, Worker } from "near-workspaces";
import { contractWasm } from "../../../sandbox-tests/src/contracts.ts";
import { configureSandboxBinary } from "../../../sandbox-tests/src/sandbox-env.ts";
import {
  HARDWARE,
  keysetArgs,
  MEASUREMENTS,
  type ModelEntry,
  machineKeyProof,
  measurementIdOf,
  newEvidence,
  newKeyset,
} from "../../../sandbox-tests/test/registry/fixtures.ts";

const ONE_NEAR = 10n ** 24n;
const TGAS = 10n ** 12n;
const GAS = 100n * TGAS;
const DEPOSIT = ONE_NEAR / 10n;
/** The most models a keyset lists, with the longest names: the worst case of add_machine. */
const SIXTEEN_MODELS: ModelEntry[] = Array.from({ length: 16 }, (_, i) => ({
  name: `model-${String(i).padStart(2, "0")}-${"x".repeat(55)}`,
  weights_sha256: (i + 1).toString(16).padStart(64, "a"),
}));

interface Row {
  method: string;
  case: string;
  totalTgas: string;
  receiptTgas: string;
  storageBytes: bigint;
}

const rows: Row[] = [];
const tgas = (gas: bigint): string => (Number(gas) / 1e12).toFixed(2);

async function usage(account: NearAccount): Promise<bigint> {
  return BigInt((await account.accountView()).storage_usage);
}

/** Runs one call, records its gas (whole transaction and the contract's receipt) and storage delta. */
async function measure(
  label: string,
  what: string,
  caller: NearAccount,
  registry: NearAccount,
  method: string,
  args: Record<string, unknown> | Uint8Array,
  options: { deposit?: bigint; gas?: bigint } = {},
): Promise<TransactionResult> {
  const before = await usage(registry);
  const result = await caller.callRaw(registry, method, args, {
    gas: options.gas ?? GAS,
    attachedDeposit: options.deposit ?? 0n,
  });
  if (result.failed) {
    throw new Error(`${method} failed: ${result.receiptFailureMessages.join("\n")}`);
  }
  const receipt = result.receipts_outcomes[0];
  rows.push({
    method: label,
    case: what,
    totalTgas: tgas(BigInt(result.gas_burnt)),
    receiptTgas: tgas(BigInt(receipt?.gas_burnt ?? "0")),
    storageBytes: (await usage(registry)) - before,
  });
  return result;
}

async function main(): Promise<void> {
  configureSandboxBinary();
  const worker = await Worker.init();
  try {
    const root = worker.rootAccount;
    const make = (name: string) => root.createSubAccount(name, { initialBalance: 100n * ONE_NEAR });
    // One at a time: the root account's transactions share one nonce sequence.
    const owner = await make("gov");
    const alice = await make("alice");
    const v1 = await make("v1");
    const v2 = await make("v2");
    const v3 = await make("v3");
    const registry = await make("registry");
    const wasm = readFileSync(contractWasm("registry"));
    await registry.deploy(wasm);
    const r = registry;
    await measure("init", "", r, r, "init", { owner: owner.accountId, treasury: owner.accountId });

    await measure(
      "register_provider",
      "",
      alice,
      r,
      "register_provider",
      {
        name: "Alice GPU Cloud",
        endpoint: "https://alice.example.com/v1",
        region: "eu-west-1",
      },
      { deposit: 2n * ONE_NEAR },
    );
    await measure(
      "update_provider",
      "endpoint",
      alice,
      r,
      "update_provider",
      { endpoint: "https://a.example.com/v2" },
      { deposit: DEPOSIT },
    );
    await measure("pause_provider", "", alice, r, "pause_provider", {});
    await measure("resume_provider", "", alice, r, "resume_provider", {});

    for (const v of [v1, v2, v3]) {
      await measure("add_verifier", "", owner, r, "add_verifier", { account_id: v.accountId });
    }
    await measure("set_threshold", "k=2", owner, r, "set_threshold", { threshold: 2 });
    const measurementId = measurementIdOf(MEASUREMENTS);
    await measure("allow_measurement", "", owner, r, "allow_measurement", {
      measurement_id: measurementId,
      label: "bench",
    });
    await measure("set_params", "one field", owner, r, "set_params", {
      params: { max_evidence_bytes: 16384 },
    });
    await measure("set_dev_mode", "", owner, r, "set_dev_mode", { enabled: true });

    let machineId = "";
    const cases = [
      { size: 1024, models: undefined },
      { size: 1024, models: SIXTEEN_MODELS },
      { size: 8192, models: undefined },
      { size: 16384, models: undefined },
    ];
    for (const { size, models } of cases) {
      const keyset = newKeyset(undefined, models);
      const challenge = await measure(
        "request_challenge",
        "",
        alice,
        r,
        "request_challenge",
        { machine_public_key: keyset.key.text },
        { deposit: DEPOSIT },
      );
      const { nonce } = challenge.parseResult<{ nonce: string }>();
      const evidence = newEvidence(size);
      const added = await measure(
        "add_machine",
        `evidence ${size / 1024} KiB, ${keyset.models.length} models`,
        alice,
        r,
        "add_machine",
        {
          ...keysetArgs(keyset),
          tee_type: "tdx",
          hardware: HARDWARE,
          price_per_unit: "1000000000000000000",
          evidence: evidence.base64,
          machine_key_signature: machineKeyProof(keyset.key, alice.accountId, r.accountId, nonce),
        },
        { deposit: DEPOSIT, gas: 300n * TGAS },
      );
      machineId = added.parseResult<{ id: string }>().id;
    }
    const evidence = newEvidence(8192);
    const rotated = newKeyset();
    const rotation = await measure(
      "request_challenge",
      "",
      alice,
      r,
      "request_challenge",
      { machine_public_key: rotated.key.text },
      { deposit: DEPOSIT },
    );
    const rotationNonce = rotation.parseResult<{ nonce: string }>().nonce;
    await measure(
      "submit_evidence",
      "evidence 8 KiB, a new keyset (rotation)",
      alice,
      r,
      "submit_evidence",
      {
        machine_id: machineId,
        evidence: evidence.base64,
        ...keysetArgs(rotated),
        machine_key_signature: machineKeyProof(
          rotated.key,
          alice.accountId,
          r.accountId,
          rotationNonce,
        ),
      },
      { deposit: DEPOSIT, gas: 300n * TGAS },
    );
    const verdict = (approve: boolean) => ({
      machine_id: machineId,
      evidence_hash: evidence.hash,
      approve,
      measurements: MEASUREMENTS,
      tcb_status: "UpToDate",
      reason: "",
    });
    await measure("post_verdict", "1st approval (pending)", v1, r, "post_verdict", verdict(true), {
      deposit: DEPOSIT,
    });
    await measure(
      "post_verdict",
      "k-th approval (verifies, activates the new keyset)",
      v2,
      r,
      "post_verdict",
      verdict(true),
      { deposit: DEPOSIT },
    );
    await measure(
      "update_machine_price",
      "",
      alice,
      r,
      "update_machine_price",
      { machine_id: machineId, price_per_unit: "2000000000000000000" },
      { deposit: DEPOSIT },
    );
    await measure(
      "deactivate_machine",
      "",
      alice,
      r,
      "deactivate_machine",
      { machine_id: machineId },
      { deposit: DEPOSIT },
    );
    await measure(
      "reactivate_machine",
      "",
      alice,
      r,
      "reactivate_machine",
      { machine_id: machineId },
      { deposit: DEPOSIT },
    );
    await measure("remove_machine", "with verdicts + attestation", alice, r, "remove_machine", {
      machine_id: machineId,
    });
    await measure("revoke_measurement", "", owner, r, "revoke_measurement", {
      measurement_id: measurementId,
    });
    await measure("remove_verifier", "", owner, r, "remove_verifier", { account_id: v3.accountId });
    await measure("slash_provider", "part of the bond", owner, r, "slash_provider", {
      provider: alice.accountId,
      amount: ONE_NEAR.toString(),
      reason: "bench",
    });
    await measure(
      "upgrade",
      `${(wasm.length / 1024).toFixed(0)} KiB wasm, incl. migrate`,
      owner,
      r,
      "upgrade",
      wasm,
      { gas: 200n * TGAS },
    );

    await measure("set_params", "unbonding 1 ns", owner, r, "set_params", {
      params: { unbonding_period_ns: "1" },
    });
    const bob = await make("bob");
    await measure(
      "register_provider",
      "second provider",
      bob,
      r,
      "register_provider",
      {
        name: "Bob",
        endpoint: "https://bob.example.com",
        region: "us-east-1",
      },
      { deposit: 2n * ONE_NEAR },
    );
    await measure("retire_provider", "", bob, r, "retire_provider", {}, { deposit: DEPOSIT });
    await worker.provider.fastForward(2);
    await measure("withdraw_bond", "no escrow wired", bob, r, "withdraw_bond", {});
    await measure("set_escrow", "", owner, r, "set_escrow", { escrow: "escrow.test.near" });

    print();
  } finally {
    await worker.tearDown();
  }
}

function print(): void {
  const byteCost = 10n ** 19n;
  console.log(
    "| method | case | gas, whole tx (Tgas) | gas, contract receipt (Tgas) | storage delta (bytes) |",
  );
  console.log("|---|---|---:|---:|---:|");
  for (const row of rows) {
    console.log(
      `| ${row.method} | ${row.case} | ${row.totalTgas} | ${row.receiptTgas} | ${row.storageBytes} |`,
    );
  }
  const provider = rows.find((r) => r.method === "register_provider");
  const challenge = rows.find((r) => r.method === "request_challenge");
  const machine = rows.find((r) => r.method === "add_machine");
  if (provider && challenge && machine) {
    const machineBytes = challenge.storageBytes + machine.storageBytes;
    const near = (bytes: bigint) => (Number(bytes * byteCost) / 1e24).toFixed(5);
    console.log("");
    console.log(
      `storage per provider: ${provider.storageBytes} bytes = ${near(provider.storageBytes)} NEAR`,
    );
    console.log(
      `storage per machine (challenge + add_machine, 1 GPU): ${machineBytes} bytes = ${near(machineBytes)} NEAR`,
    );
    console.log(
      `verifier fees (fixed, refunded on release): verdict 500 bytes = ${near(500n)} NEAR, attestation 2200 bytes = ${near(2200n)} NEAR`,
    );
  }
}

await main();
