/**
 * End to end on localnet: the registry contract deployed with near-workspaces, a provider adds a
 * machine with evidence answering a challenge, and two verifier services (threshold 2) find the
 * evidence in the submitting transaction, verify it and post verdicts until it is verified.
 * The machine is "none-dev" (no TEE on CI), with GPU tokens signed by a test key: the chain
 * side (discovery, the attested keyset, evidence bytes, REPORTDATA from the registry, posting) is
 * what is under test; TDX quotes are covered by the fixture tests.
 */
import "../../sandbox-tests/src/sandbox-env.ts";
import { readFileSync } from "node:fs";
import { KeyPair, type NearAccount, Worker } from "near-workspaces";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { contractWasm } from "../../sandbox-tests/src/contracts.ts";
import { rpcUrl } from "../../sandbox-tests/src/rpc.ts";
import { machineKeyProof } from "../../sandbox-tests/test/registry/fixtures.ts";
import { devReportJson } from "../src/dev-report.ts";
import { encodeEvidence } from "../src/evidence.ts";
import { DEFAULT_POLICY } from "../src/policy.ts";
import { expectedReportData, gpuNonce, keysetSha256 } from "../src/report-data.ts";
import { NearRegistry } from "../src/service/near-registry.ts";
import { PostedStore } from "../src/service/posted-store.ts";
import { type LogRecord, VerifierService } from "../src/service/service.ts";
import { collateral, rootCa } from "./fixtures.ts";
import { nrasResult, type TestSigner, testSigner } from "./nvidia-helpers.ts";

const ONE_NEAR = 10n ** 24n;
const GAS = 100_000_000_000_000n;
const MEASUREMENTS = {
  mrtd: "a1".repeat(48),
  rtmr0: "b2".repeat(48),
  rtmr1: "c3".repeat(48),
  rtmr2: "d4".repeat(48),
  rtmr3: "",
};

let worker: Worker;
let registry: NearAccount;
let alice: NearAccount;
let verifiers: NearAccount[];
let signer: TestSigner;

async function service(verifier: NearAccount, logs: LogRecord[]): Promise<VerifierService> {
  const key = await verifier.getKey();
  if (key === null) {
    throw new Error(`no key for ${verifier.accountId}`);
  }
  return new VerifierService({
    account: verifier.accountId,
    registry: new NearRegistry({
      rpcUrl: rpcUrl(worker),
      registryId: registry.accountId,
      accountId: verifier.accountId,
      privateKey: key.toString() as `ed25519:${string}`,
    }),
    trust: { rootCa: rootCa(), collateral: async () => collateral(), nvidiaJwks: signer.jwks },
    policy: { ...DEFAULT_POLICY, allowDev: true },
    posted: new PostedStore(null),
    log: (record) => logs.push(record),
    retryBaseMs: 0,
  });
}

async function machineState(id: string): Promise<string> {
  const view = (await registry.view("machine", { machine_id: id })) as {
    attestation_state: string;
  };
  return view.attestation_state;
}

beforeAll(async () => {
  signer = await testSigner();
  worker = await Worker.init();
  const root = worker.rootAccount;
  const owner = await root.createSubAccount("gov", { initialBalance: 10n * ONE_NEAR });
  alice = await root.createSubAccount("alice", { initialBalance: 20n * ONE_NEAR });
  verifiers = [
    await root.createSubAccount("v1", { initialBalance: 5n * ONE_NEAR }),
    await root.createSubAccount("v2", { initialBalance: 5n * ONE_NEAR }),
  ];
  registry = await root.createSubAccount("registry", { initialBalance: 20n * ONE_NEAR });
  await registry.deploy(readFileSync(contractWasm("registry")));
  await registry.call(
    registry,
    "init",
    {
      owner: owner.accountId,
      treasury: owner.accountId,
      params: { min_bond: ONE_NEAR.toString() },
    },
    { gas: GAS },
  );
  for (const v of verifiers) {
    await owner.call(registry, "add_verifier", { account_id: v.accountId }, { gas: GAS });
  }
  await owner.call(registry, "set_threshold", { threshold: 2 }, { gas: GAS });
  await alice.call(
    registry,
    "register_provider",
    { name: "Alice GPUs", endpoint: "https://gpu.example.com/v1", region: "eu-west-1" },
    { gas: GAS, attachedDeposit: 2n * ONE_NEAR },
  );
}, 180_000);

afterAll(async () => {
  await worker?.tearDown();
});

describe("verifier services against the registry on localnet", () => {
  test("a machine registered with evidence becomes verified after k = 2 verdicts", async () => {
    const machineKeyPair = KeyPair.fromRandom("ed25519");
    const machineKey = machineKeyPair.getPublicKey().toString();
    const keysetArgs = {
      machine_public_key: machineKey,
      encryption_key: `x25519:${"ab".repeat(32)}`,
      models: [{ name: "llama-3.1-8b-instruct", weights_sha256: "cd".repeat(32) }],
    };
    const challenge = (await alice.call(
      registry,
      "request_challenge",
      { machine_public_key: machineKey },
      { gas: GAS, attachedDeposit: ONE_NEAR / 100n },
    )) as { nonce: string };
    const bound = (await registry.view("report_data", {
      provider: alice.accountId,
      ...keysetArgs,
    })) as { keyset_sha256: string; report_data: string };
    // The library computes the same keyset hash and REPORTDATA as the contract, from public data.
    const keyset = keysetSha256({
      account: alice.accountId,
      registry: registry.accountId,
      signing_key: machineKey,
      encryption_key: keysetArgs.encryption_key,
      models: keysetArgs.models,
    });
    expect(keyset).toBe(bound.keyset_sha256);
    expect(expectedReportData(keyset, challenge.nonce)).toBe(bound.report_data);
    const evidence = encodeEvidence({
      devReport: devReportJson({
        reportData: bound.report_data,
        measurements: { ...MEASUREMENTS, gpu_driver: "", gpu_vbios: "" },
      }),
      gpuEvidence: await nrasResult(signer, gpuNonce(keyset, challenge.nonce)),
    });
    const machine = (await alice.call(
      registry,
      "add_machine",
      {
        ...keysetArgs,
        tee_type: "none-dev",
        hardware: {
          gpus: [
            {
              model: "NVIDIA H100 80GB HBM3",
              count: 1,
              vram_mib: 81559,
              driver: "580.159.04",
              vbios: "96.00.9F.00.04",
              cc_mode: "on",
            },
          ],
          cpu_cores: 16,
          ram_mib: 131072,
        },
        price_per_unit: "1000000000000000000",
        evidence: Buffer.from(evidence).toString("base64"),
        machine_key_signature: machineKeyProof(
          { text: machineKey, bytes: new Uint8Array(), keyPair: machineKeyPair },
          alice.accountId,
          registry.accountId,
          challenge.nonce,
        ),
      },
      { gas: GAS, attachedDeposit: ONE_NEAR / 10n },
    )) as { id: string; evidence: { hash: string } };
    expect(await machineState(machine.id)).toBe("pending");

    const logs1: LogRecord[] = [];
    const logs2: LogRecord[] = [];
    const s1 = await service(verifiers[0] as NearAccount, logs1);
    const s2 = await service(verifiers[1] as NearAccount, logs2);

    expect(await s1.tick()).toBe(1);
    expect(logs1.find((l) => l.event === "decision")).toMatchObject({
      machine_id: machine.id,
      evidence_hash: machine.evidence.hash,
      keyset_sha256: keyset,
      approve: true,
      tcb_status: "Dev",
      measurements: { ...MEASUREMENTS, gpu_driver: "580.159.04", gpu_vbios: "96.00.9F.00.04" },
    });
    expect(await machineState(machine.id)).toBe("pending");
    // The same service never posts twice on the same evidence.
    expect(await s1.tick()).toBe(0);

    expect(await s2.tick()).toBe(1);
    expect(await machineState(machine.id)).toBe("verified");
    const view = (await registry.view("evidence", { machine_id: machine.id })) as {
      attestation: {
        approvers: string[];
        measurements: Record<string, string>;
        keyset_sha256: string;
      };
    };
    expect(view.attestation.approvers).toEqual(verifiers.map((v) => v.accountId));
    expect(view.attestation.keyset_sha256).toBe(keyset);
    expect(view.attestation.measurements.gpu_driver).toBe("580.159.04");
    // Verified evidence is no longer pending: nothing left to do.
    expect(await s2.tick()).toBe(0);
    expect(logs1.concat(logs2).filter((l) => l.event === "retry")).toEqual([]);
  });
});
