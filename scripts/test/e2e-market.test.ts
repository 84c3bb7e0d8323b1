/**
 * End to end on an in-process localnet: deploy the market (governance owning registry and escrow,
 * dev mode enabled by a governance vote), register a provider with a none-dev machine whose GPUs
 * come from the recorded H100 nvidia-smi output, then run a job through the job commands and a
 * proposal through the dao commands.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Job } from "@gpu-market/common/src/escrow-types.ts";
import type { ProposalView } from "@gpu-market/common/src/governance-types.ts";
import {
  failureBytes,
  type ModelEntry,
  receiptBytes,
} from "@gpu-market/common/src/inference-messages.ts";
import type { Eligibility } from "@gpu-market/common/src/registry-types.ts";
import { encodeEvidence, gpuNonce } from "@gpu-market/verifier";
import { KeyPair, type KeyPairString } from "near-api-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prebuilt } from "../src/artifacts.ts";
import { propose, transition, vote } from "../src/commands/dao.ts";
import { deployMarket, fastForwardTo } from "../src/commands/deploy.ts";
import { registerProvider } from "../src/commands/register-provider.ts";
import { readKeyFile } from "../src/credentials.ts";
import { memoryIo } from "../src/io.ts";
import { fakeKernel } from "./support/fake-tsm.ts";
import { fixtureRunner } from "./support/fixture-runner.ts";
import { createAccount, startTestNet, type TestNet } from "./support/localnet.ts";
import { runCli } from "./support/run-cli.ts";

const ONE_NEAR = 10n ** 24n;
let t: TestNet;
let registry: string;
let escrow: string;
let governance: string;
let provider: string;

beforeAll(async () => {
  t = await startTestNet();
});
afterAll(async () => {
  await t?.stop();
});

describe("gpu-market on localnet", () => {
  it("deploys the market with governance owning registry and escrow", async () => {
    const io = memoryIo();
    const result = await deployMarket(
      {
        chain: t.chain,
        creds: t.creds,
        master: t.master,
        build: false,
        devMode: true,
        keepKeys: false,
        deploymentPath: join(t.dir, "deployment.json"),
      },
      io,
    );
    registry = result.registry.account_id;
    escrow = result.escrow.account_id;
    governance = result.governance.account_id;
    expect(registry).toBe(`registry.${t.master}`);
    const info = await t.chain.view<{ owner: string; dev_mode: boolean }>(
      registry,
      "registry_info",
    );
    expect(info).toMatchObject({ owner: governance, dev_mode: true });
    const escrowInfo = await t.chain.view<{ owner: string; registry: string }>(
      escrow,
      "escrow_info",
    );
    expect(escrowInfo).toMatchObject({ owner: governance, registry });
    const keys = await t.chain.provider.viewAccessKeyList({
      accountId: registry,
      finalityQuery: { finality: "final" },
    });
    expect(keys.keys).toHaveLength(0);
    expect(io.lines.join("\n")).toContain(result.registry.code_hash);
  });

  it("registers a provider and a none-dev machine detected from nvidia-smi, with its keyset", async () => {
    provider = await createAccount(t, "alice", 20n);
    const io = memoryIo();
    const weights = join(t.dir, "tiny.gguf");
    writeFileSync(weights, "GGUF tiny model weights");
    const weightsSha256 = createHash("sha256").update("GGUF tiny model weights").digest("hex");
    const keyPath = join(t.dir, "machine-key.json");
    const common = {
      chain: t.chain,
      registry,
      provider,
      name: "Alice GPU",
      endpoint: "https://alice.example/v1",
      region: "eu-west-1",
      pricePerUnit: 1000n,
      tee: "none-dev" as const,
      machineKeyPath: keyPath,
      models: [
        { name: "tiny", path: weights },
        { name: "llama-3.1-8b-instruct", weights_sha256: "ab".repeat(32) },
      ],
      waitSeconds: 10,
      pollMs: 200,
      runner: fixtureRunner("h100-80gb-cc-off"),
      host: { cpuCores: 16, ramMib: 131072 },
      tsmRoot: join(t.dir, "no-tsm"),
    };
    const models = [
      { name: "llama-3.1-8b-instruct", weights_sha256: "ab".repeat(32) },
      { name: "tiny", weights_sha256: weightsSha256 },
    ];
    const dry = await registerProvider({ ...common, dryRun: true }, io);
    expect(dry.machine).toBeNull();
    expect(dry.models).toEqual(models);
    expect(dry.encryption_key).toMatch(/^x25519:[0-9a-f]{64}$/);
    expect(existsSync(keyPath)).toBe(false);
    expect(await t.chain.view(registry, "provider", { account_id: provider })).toBeNull();

    const result = await registerProvider({ ...common, dryRun: false }, io);
    expect(result.provider.registered_now).toBe(true);
    expect(result.machine).toMatchObject({
      id: "0",
      eligible: true,
      evidence_source: "dev-report",
    });
    const machine = await t.chain.view<{
      hardware: unknown;
      machine_public_key: string;
      encryption_key: string;
      models: unknown;
      keyset_sha256: string;
    }>(registry, "machine", { machine_id: "0" });
    expect(machine).toMatchObject({
      machine_public_key: result.machine_public_key,
      encryption_key: result.encryption_key,
      models,
      keyset_sha256: result.keyset_sha256,
    });
    // The key file holds both key pairs (private halves never printed) and the registered keyset.
    const keyFile = JSON.parse(readFileSync(keyPath, "utf8"));
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(keyFile).toMatchObject({
      public_key: result.machine_public_key,
      private_key: expect.stringMatching(/^ed25519:/),
      encryption_key: result.encryption_key,
      encryption_private_key: expect.stringMatching(/^x25519:[0-9a-f]{64}$/),
      keyset: {
        machine_id: "0",
        account: provider,
        registry,
        models,
        keyset_sha256: result.keyset_sha256,
      },
    });
    // The submitted evidence is kept beside the key file, for the agent's /v1/attestation.
    const registered = await t.chain.view<{ evidence: { hash: string } }>(registry, "machine", {
      machine_id: "0",
    });
    expect(result.machine?.evidence_file).toBe(`${keyPath}.evidence`);
    expect(
      createHash("sha256")
        .update(readFileSync(`${keyPath}.evidence`))
        .digest("hex"),
    ).toBe(registered.evidence.hash);
    const printed = io.lines.join("\n");
    expect(printed).toContain(result.encryption_key);
    expect(printed).not.toContain(keyFile.encryption_private_key.slice(7));
    expect(printed).not.toContain(keyFile.private_key.slice(8));
    expect(machine.hardware).toEqual({
      gpus: [
        {
          model: "NVIDIA H100 80GB HBM3",
          count: 1,
          vram_mib: 81559,
          driver: "580.159.04",
          vbios: "96.00.DA.00.0C",
          cc_mode: "off",
        },
      ],
      cpu_cores: 16,
      ram_mib: 131072,
    });
  });

  it("stops at preflight with every failure and its fix", async () => {
    const io = memoryIo();
    await expect(
      registerProvider(
        {
          chain: t.chain,
          registry,
          provider: `nobody.${t.master}`,
          pricePerUnit: 1n,
          tee: "none-dev",
          machineKeyPath: join(t.dir, "other-key.json"),
          models: [{ name: "tiny", path: join(t.dir, "no-such-weights.gguf") }],
          dryRun: false,
          waitSeconds: 0,
          runner: fixtureRunner("driver-missing"),
          host: { cpuCores: 1, ramMib: 1 },
          tsmRoot: join(t.dir, "no-tsm"),
        },
        io,
      ),
    ).rejects.toMatchObject({
      message: expect.stringMatching(
        /NVIDIA driver.*models: --model tiny=.*no-such-weights.gguf: ENOENT.*provider: .*not registered.*credentials/,
      ),
      hint: expect.stringContaining("modprobe nvidia"),
    });
  });

  it("registers a TDX machine with a quote from configfs-tsm bound to the challenge", async () => {
    const carol = await createAccount(t, "carol", 20n);
    const tsmRoot = join(t.dir, "tsm", "report");
    mkdirSync(tsmRoot, { recursive: true });
    const result = await registerProvider(
      {
        chain: t.chain,
        registry,
        provider: carol,
        name: "Carol Confidential",
        endpoint: "https://carol.example",
        region: "us-east-1",
        pricePerUnit: 5n,
        tee: "tdx",
        machineKeyPath: join(t.dir, "carol-machine-key.json"),
        models: [{ name: "llama-3.1-70b-instruct", weights_sha256: "cd".repeat(32) }],
        dryRun: false,
        waitSeconds: 0,
        runner: fixtureRunner("multi-gpu-8x-h100-cc-on"),
        host: { cpuCores: 224, ramMib: 2_000_000 },
        tsmRoot,
        tsmFs: fakeKernel(),
      },
      memoryIo(),
    );
    expect(result.machine).toMatchObject({
      evidence_source: "configfs-tsm",
      attestation_state: "pending",
      eligible: false,
    });
    const machineId = result.machine?.id ?? "";
    // The fake kernel's quote is "QUOTE:" + REPORTDATA: the bundle the registry hashed carries
    // exactly the REPORTDATA the registry expects for this evidence.
    const expected = await t.chain.view<string>(registry, "expected_report_data", {
      machine_id: machineId,
      evidence_hash: result.machine?.evidence_hash,
    });
    const quote = Buffer.concat([Buffer.from("QUOTE:"), Buffer.from(expected, "hex")]);
    const bundle = encodeEvidence({ tdxQuote: new Uint8Array(quote) });
    expect(createHash("sha256").update(bundle).digest("hex")).toBe(result.machine?.evidence_hash);
  });

  it("takes a quote made out of band for the open challenge (--challenge-only, then --evidence)", async () => {
    const carol = `carol.${t.master}`;
    const base = {
      chain: t.chain,
      registry,
      provider: carol,
      pricePerUnit: 5n,
      tee: "tdx" as const,
      machineKeyPath: join(t.dir, "carol-machine-2.json"),
      models: [{ name: "llama-3.1-70b-instruct", weights_sha256: "cd".repeat(32) }],
      dryRun: false,
      waitSeconds: 0,
      runner: fixtureRunner("multi-gpu-8x-h100-cc-on"),
      host: { cpuCores: 224, ramMib: 2_000_000 },
      tsmRoot: join(t.dir, "no-tsm"),
    };
    const quoteFile = join(t.dir, "quote.bin");
    // A real recorded quote, from the verifier's fixtures.
    const recorded = readFileSync(
      new URL("../../verifier/test/fixtures/tdx/v4-b0c06f000000/quote.bin", import.meta.url),
    );
    writeFileSync(quoteFile, recorded);
    await expect(
      registerProvider({ ...base, evidencePath: quoteFile }, memoryIo()),
    ).rejects.toMatchObject({ hint: expect.stringContaining("--challenge-only") });

    const io = memoryIo();
    const issued = await registerProvider({ ...base, challengeOnly: true }, io);
    const challenge = issued.challenge;
    const reportData = challenge?.report_data ?? "";
    // REPORTDATA: the keyset's sha256, then the challenge nonce; the GPU nonce follows from both.
    expect(reportData).toBe(`${challenge?.keyset_sha256}${challenge?.nonce}`);
    expect(challenge?.gpu_nonce).toBe(
      gpuNonce(challenge?.keyset_sha256 ?? "", challenge?.nonce ?? ""),
    );
    expect(io.lines.join("\n")).toContain(`GPU nonce  ${challenge?.gpu_nonce}`);
    expect(issued.machine).toBeNull();

    // A real TDX quote (recorded) carries another REPORTDATA: refused before anything is sent.
    await expect(
      registerProvider({ ...base, evidencePath: quoteFile }, memoryIo()),
    ).rejects.toThrow(/REPORTDATA 9a9d48e7.* is not the registry's challenge/);
    // The same quote with the challenge's REPORTDATA (TD report body offset 520, after the
    // 48-byte header) is accepted; verifiers would reject its signature, which is theirs to judge.
    const patched = Buffer.from(recorded);
    Buffer.from(reportData, "hex").copy(patched, 48 + 520);
    writeFileSync(quoteFile, patched);
    const added = await registerProvider({ ...base, evidencePath: quoteFile }, memoryIo());
    expect(added.machine).toMatchObject({ evidence_source: "file", attestation_state: "pending" });
  });

  /** The CLI as a user runs it, against this localnet and deployment. */
  function cli(...args: string[]) {
    return runCli([...args, "--network", "localnet", "--rpc-url", t.net.rpcUrl], {
      NEAR_CREDENTIALS_DIR: t.creds.dir,
      GPU_MARKET_DEPLOYMENT: join(t.dir, "deployment.json"),
    });
  }

  it("deploys a second market through the CLI, and refuses to deploy over existing accounts", async () => {
    const names = [
      "--governance",
      `gov2.${t.master}`,
      "--registry",
      `reg2.${t.master}`,
      "--escrow",
      `esc2.${t.master}`,
    ];
    const deployment = join(t.dir, "second.json");
    const args = [
      "deploy",
      "--account",
      t.master,
      ...names,
      "--no-build",
      "--no-dev-mode",
      "--fund-each",
      "8",
      "--holders",
      `${t.master}=600,carol.${t.master}=400`,
      "--gov-config",
      '{"quorum_bps":1000}',
      "--deployment",
      deployment,
      "--json",
    ];
    const first = await cli(...args);
    if (first.code !== 0) throw new Error(first.stderr);
    const result = JSON.parse(first.stdout);
    expect(result).toMatchObject({
      registry: { account_id: `reg2.${t.master}` },
      treasury: `gov2.${t.master}`,
      dev_mode: false,
    });
    expect(JSON.parse(readFileSync(deployment, "utf8")).escrow.account_id).toBe(`esc2.${t.master}`);
    const config = await t.chain.view<{ quorum_bps: number; governed: string[] }>(
      `gov2.${t.master}`,
      "get_config",
    );
    expect(config).toMatchObject({
      quorum_bps: 1000,
      governed: [`reg2.${t.master}`, `esc2.${t.master}`],
    });
    expect(
      await t.chain.view(`gov2.${t.master}`, "ft_balance_of", { account_id: `carol.${t.master}` }),
    ).toBe((400n * ONE_NEAR).toString());

    const again = await cli(...args);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/gov2\.test\.near already exists[\s\S]*fix: /);
  });

  /** The machine key's signature (hex) over sha256 of a signed document, as the escrow checks. */
  function machineSignature(document: Uint8Array): string {
    const key = readKeyFile(join(t.dir, "machine-key.json"));
    const pair = KeyPair.fromString(key.private_key as KeyPairString);
    const digest = createHash("sha256").update(document).digest();
    return Buffer.from(pair.sign(digest).signature).toString("hex");
  }

  /** Machine 0's attested model and keyset, as a client reads them from the registry. */
  async function attested(): Promise<{ model: ModelEntry; keyset: string }> {
    const answer = await t.chain.view<Eligibility>(registry, "is_eligible", { machine_id: "0" });
    const model = answer.models?.[0];
    if (model === undefined || answer.keyset_sha256 === null) {
      throw new Error(`machine 0 has no attested keyset: ${answer.reason ?? ""}`);
    }
    return { model, keyset: answer.keyset_sha256 };
  }

  /** The provider's side (its agent is not part of the CLI): accept, then deliver a receipt. */
  async function acceptAndDeliver(job: Job, prompt: string, completion: string): Promise<void> {
    await t.chain.call(provider, escrow, "accept_job", { job_id: job.id });
    const receipt = {
      model: (await attested()).model.name,
      weights_sha256: job.model_hash,
      request_sha256: job.input_hash,
      response_sha256: "cc".repeat(32),
      prompt_tokens: prompt,
      completion_tokens: completion,
      chunks: "2",
    };
    const signature = machineSignature(receiptBytes({ escrow, job_id: job.id, ...receipt }));
    await t.chain.call(provider, escrow, "deliver_job", { job_id: job.id, receipt, signature });
  }

  it("prints one JSON document with every check when the CLI's preflight fails", async () => {
    const run = await cli(
      "register-provider",
      "--account",
      `nobody.${t.master}`,
      "--price",
      "1",
      "--tee",
      "none-dev",
      "--machine-key",
      join(t.dir, "cli-machine-key.json"),
      "--dry-run",
      "--json",
    );
    expect(run.code).toBe(1);
    const answer = JSON.parse(run.stdout);
    expect(answer).toMatchObject({ ok: false, error: expect.stringContaining("preflight failed") });
    const names = answer.details.checks.map((c: { name: string }) => c.name);
    expect(names).toEqual(
      expect.arrayContaining(["TEE", "machine key", "provider", "credentials"]),
    );
    expect(run.stderr).toContain("fix: ");
  });

  it("runs a NEAR job through job create, watch, confirm and withdraw", async () => {
    const client = await createAccount(t, "bob", 20n);
    const input = join(t.dir, "input.txt");
    writeFileSync(input, "what is a TEE?");
    const { model, keyset } = await attested();
    const created = await cli(
      "job",
      "create",
      "--account",
      client,
      "--machine",
      "0",
      "--max-amount",
      "1",
      "--model-hash",
      model.weights_sha256,
      "--input-file",
      input,
      "--accept-within",
      "600",
      "--json",
    );
    expect(created.stderr).toContain("creating a job on machine 0");
    expect(created.code).toBe(0);
    const job = JSON.parse(created.stdout) as Job;
    // Without --keyset-sha256 the job names the machine's current keyset, read from the registry.
    expect(job).toMatchObject({
      status: "requested",
      provider,
      max_amount: ONE_NEAR.toString(),
      keyset_sha256: keyset,
      input_hash: createHash("sha256").update("what is a TEE?").digest("hex"),
    });

    await acceptAndDeliver(job, "400", "600");
    const watched = await cli(
      "job",
      "watch",
      job.id,
      "--until",
      "delivered",
      "--timeout",
      "5",
      "--json",
    );
    expect(watched.code).toBe(0);
    expect(JSON.parse(watched.stdout)).toMatchObject({
      status: "delivered",
      model_name: model.name,
      prompt_tokens: "400",
      completion_tokens: "600",
      usage: "1000",
      amount_due: "1000000",
    });

    const confirmed = await cli("job", "confirm", job.id, "--account", client);
    expect(confirmed.code).toBe(0);
    expect(confirmed.stdout).toContain(`job ${job.id}: settled`);

    const paid = await cli("job", "withdraw", "--account", provider, "--json");
    expect(paid.code).toBe(0);
    // 1e6 due at a 1% fee: 990000 to the provider
    expect(JSON.parse(paid.stdout)).toMatchObject({ asset: "NEAR", withdrawn: "990000" });
    const again = await cli("job", "withdraw", "--account", provider);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no NEAR credited[\s\S]*fix: /);
  });

  it("cancels, fails and disputes jobs, and reports refused jobs with the reason", async () => {
    const client = `bob.${t.master}`;
    const { model } = await attested();
    const base = [
      "--account",
      client,
      "--max-amount",
      "0.5",
      "--model-hash",
      model.weights_sha256,
      "--input-hash",
      "dd".repeat(32),
    ];
    const first = await cli("job", "create", "--machine", "0", ...base, "--json");
    const toCancel = JSON.parse(first.stdout) as Job;
    const cancelled = await cli("job", "cancel", toCancel.id, "--account", client, "--json");
    expect(JSON.parse(cancelled.stdout)).toMatchObject({
      status: "refunded",
      refund_reason: "cancelled",
    });

    // The provider gives a job back with the machine's signed failure: refunded in full.
    const toFail = JSON.parse(
      (await cli("job", "create", "--machine", "0", ...base, "--json")).stdout,
    ) as Job;
    const code = "backend_unavailable";
    await t.chain.call(provider, escrow, "fail_job", {
      job_id: toFail.id,
      code,
      signature: machineSignature(failureBytes({ escrow, job_id: toFail.id, code })),
    });
    const failed = await cli("job", "watch", toFail.id, "--timeout", "5");
    expect(failed.code).toBe(0);
    expect(failed.stdout).toContain(
      `job ${toFail.id}: refunded (provider_failed: backend_unavailable; refund 500000000000000000000000)`,
    );

    const second = await cli("job", "create", "--machine", "0", ...base, "--json");
    const toDispute = JSON.parse(second.stdout) as Job;
    await acceptAndDeliver(toDispute, "4", "6");
    const noReason = await cli("job", "dispute", toDispute.id, "--account", client);
    expect(noReason.code).toBe(2);
    const disputed = await cli(
      "job",
      "dispute",
      toDispute.id,
      "--account",
      client,
      "--reason",
      "wrong answer",
    );
    expect(disputed.code).toBe(0);
    expect(disputed.stdout).toContain("disputed");

    // Refused before any money moves: an unknown machine, a model the machine does not serve.
    const unknown = await cli("job", "create", "--machine", "7", ...base);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/machine 7 is not eligible/);
    const otherModel = base.map((arg) => (arg === model.weights_sha256 ? "ef".repeat(32) : arg));
    const unserved = await cli("job", "create", "--machine", "0", ...otherModel);
    expect(unserved.code).toBe(1);
    expect(unserved.stderr).toMatch(
      /machine 0 does not serve model efef[\s\S]*fix: .*--model-hash/,
    );
    const badKeyset = await cli(
      "job",
      "create",
      "--machine",
      "0",
      ...base,
      "--keyset-sha256",
      "xyz",
    );
    expect(badKeyset.code).toBe(2);
    expect(badKeyset.stderr).toContain("--keyset-sha256: expected 64 lowercase hex characters");
    // Encrypted to a keyset the machine does not attest: the escrow refuses and refunds.
    const stale = await cli(
      "job",
      "create",
      "--machine",
      "0",
      ...base,
      "--keyset-sha256",
      "12".repeat(32),
    );
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/the escrow refused the job: the machine's keyset changed/);
  });

  it("runs a parameter change through dao propose, vote, queue, execute, list and show", async () => {
    const args = JSON.stringify({ params: { attestation_ttl_ns: "43200000000000" } });
    const made = await cli(
      "dao",
      "propose",
      "--account",
      t.master,
      "--description",
      "Attestations last 12 hours",
      "--call",
      `${registry}.set_params`,
      "--args",
      args,
      "--json",
    );
    expect(made.code).toBe(0);
    const proposal = JSON.parse(made.stdout) as ProposalView;
    expect(proposal.status).toBe("pending");

    const early = await cli("dao", "vote", String(proposal.id), "for", "--account", t.master);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/is pending: votes are accepted from height/);

    await fastForwardTo(t.chain, proposal.snapshot_height + 1);
    expect((await cli("dao", "vote", String(proposal.id), "for", "--account", t.master)).code).toBe(
      0,
    );
    await fastForwardTo(t.chain, proposal.vote_end_height + 1);
    const queued = await cli("dao", "queue", String(proposal.id), "--account", t.master, "--json");
    const eta = (JSON.parse(queued.stdout) as ProposalView).eta_height ?? 0;
    await fastForwardTo(t.chain, eta);
    const executed = await cli("dao", "execute", String(proposal.id), "--account", t.master);
    expect(executed.stdout).toContain(`proposal ${proposal.id}: executed`);
    const params = await t.chain.view<{ attestation_ttl_ns: string }>(registry, "get_params");
    expect(params.attestation_ttl_ns).toBe("43200000000000");

    const listed = await cli("dao", "list", "--json");
    expect((JSON.parse(listed.stdout) as ProposalView[]).map((p) => p.status)).toEqual([
      "executed",
      "executed",
    ]);
    const shown = await cli("dao", "show", String(proposal.id));
    expect(shown.stdout).toContain("set_params");
  });

  it("proposes an upgrade only when the rebuilt source matches the staged blob", async () => {
    const target = { chain: t.chain, governance };
    // The build is injected (the prebuilt wasm) to keep the suite short; the toolchain's own
    // tests show that rebuilding gives the same bytes.
    const build = async () => {
      const [artifact] = prebuilt(["registry"]);
      if (artifact === undefined) throw new Error("no registry build");
      return artifact;
    };
    const request = { kind: "upgrade" as const, contract: "registry" as const, target: registry };
    const io = memoryIo();
    await expect(
      propose(
        {
          ...target,
          proposer: t.master,
          description: "x",
          build,
          request: { ...request, codeSha256: "ab".repeat(32), stage: true },
        },
        io,
      ),
    ).rejects.toThrow(/is not what the source builds/);
    await expect(
      propose(
        {
          ...target,
          proposer: t.master,
          description: "x",
          build,
          request: { ...request, stage: false },
        },
        io,
      ),
    ).rejects.toMatchObject({ hint: expect.stringContaining("--stage") });
    const staged = await propose(
      {
        ...target,
        proposer: t.master,
        description: "Upgrade the registry",
        build,
        request: { ...request, stage: true },
      },
      io,
    );
    const [artifact] = prebuilt(["registry"]);
    expect(staged.actions).toEqual([
      {
        kind: "upgrade",
        target: registry,
        code_sha256: artifact?.sha256,
        code_size: artifact?.wasm.length,
      },
    ]);
    const cancelled = await cli(
      "dao",
      "cancel",
      String(staged.id),
      "--account",
      t.master,
      "--json",
    );
    expect(JSON.parse(cancelled.stdout)).toMatchObject({
      status: "canceled",
      canceled_by: t.master,
    });
  });
  it("pays a job in an allowed NEP-141 token and withdraws the refund in that token", async () => {
    const client = `bob.${t.master}`;
    const usdc = await createAccount(t, "usdc", 20n);
    const [wasm] = prebuilt(["usdc"]);
    if (wasm === undefined) throw new Error("no usdc build");
    await t.chain.account(usdc).deployContract(wasm.wasm);
    await t.chain.call(usdc, usdc, "init", { owner_id: usdc, total_supply: "1000000000" });
    for (const account of [escrow, client, provider]) {
      await t.chain.call(
        client,
        usdc,
        "storage_deposit",
        { account_id: account },
        { deposit: ONE_NEAR / 100n },
      );
    }
    await t.chain.call(usdc, usdc, "mint", { account_id: client, amount: "20000" });

    // The escrow belongs to governance: allowing the token takes a proposal.
    const target = { chain: t.chain, governance };
    const quiet = memoryIo();
    const proposal = await propose(
      {
        ...target,
        proposer: t.master,
        description: "Allow USDC on the escrow",
        request: {
          kind: "actions",
          actions: [
            { kind: "function_call", target: escrow, method: "allow_token", args: { token: usdc } },
          ],
        },
      },
      quiet,
    );
    await fastForwardTo(t.chain, proposal.snapshot_height + 1);
    await vote({ ...target, voter: t.master, proposalId: proposal.id, support: "for" }, quiet);
    await fastForwardTo(t.chain, proposal.vote_end_height + 1);
    const queued = await transition(
      { ...target, account: t.master, proposalId: proposal.id, action: "queue" },
      quiet,
    );
    await fastForwardTo(t.chain, queued.eta_height ?? 0);
    await transition(
      { ...target, account: t.master, proposalId: proposal.id, action: "execute" },
      quiet,
    );

    const created = await cli(
      "job",
      "create",
      "--account",
      client,
      "--machine",
      "0",
      "--token",
      usdc,
      "--max-amount",
      "5000",
      "--model-hash",
      (await attested()).model.weights_sha256,
      "--input-hash",
      "ee".repeat(32),
      "--json",
    );
    if (created.code !== 0) throw new Error(created.stderr);
    const job = JSON.parse(created.stdout) as Job;
    expect(job).toMatchObject({ asset: usdc, max_amount: "5000", status: "requested" });
    expect(await t.chain.view(usdc, "ft_balance_of", { account_id: client })).toBe("15000");

    await cli("job", "cancel", job.id, "--account", client);
    const refund = await cli("job", "withdraw", "--account", client, "--asset", usdc, "--json");
    expect(JSON.parse(refund.stdout)).toMatchObject({ asset: usdc, withdrawn: "5000" });
    expect(await t.chain.view(usdc, "ft_balance_of", { account_id: client })).toBe("20000");
  });
});
