/**
 * End to end with the real escrow (and registry in dev mode) on localnet: a job paid with attached
 * NEAR goes requested -> accepted -> delivered (a signed receipt) -> settled, a job paid from a
 * prepaid balance is cancelled, one is failed by the provider (job_failed), a job for an
 * ineligible machine is rejected, the provider withdraws; the jobs (keyset, receipt usage, failure
 * code), their history, the machine's throughput and the balances must match the contract's
 * views, and reconciliation finds nothing. A session is opened, closed with a voucher and settled
 * early by the client: the same checks.
 */
import { createHash } from "node:crypto";
import { KeyPair } from "near-api-js";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { App } from "../src/app.ts";
import { reconcile } from "../src/reconcile/reconcile.ts";
import { Chain, contractWasm, MAX_GAS, ONE_NEAR, RegistryFlows } from "./support/chain.ts";
import { createTestDatabase, type TestDatabase } from "./support/db.ts";
import {
  apiGet,
  expectSameTablesInOneBatch,
  startLiveApp,
  caughtUp as waitIndexed,
} from "./support/live.ts";

type Json = Record<string, unknown>;
const SECOND_NS = 1_000_000_000n;
const PRICE = 1000n;
const RESPONSE_HASH = "cc".repeat(32);
const INPUT_HASH = "bb".repeat(32);

let chain: Chain;
let flows: RegistryFlows;
let db: TestDatabase;
let app: App;
let escrow: string;
let treasury: string;

interface Attested {
  id: string;
  keyPair: KeyPair;
  model: { name: string; weights_sha256: string };
  keyset: string;
  encryptionKey: string;
}

function jobFields(machine: Attested): Json {
  return {
    machine_id: machine.id,
    model_hash: machine.model.weights_sha256,
    input_hash: INPUT_HASH,
    keyset_sha256: machine.keyset,
    // The escrow (state version 3) wants the highest price the client accepts.
    max_price_per_unit: PRICE.toString(),
    accept_within_ns: (60n * SECOND_NS).toString(),
    deliver_within_ns: (60n * SECOND_NS).toString(),
  };
}

/** The machine key's signature (hex) over sha256 of a signed document, as the escrow checks it. */
function signDocument(keyPair: KeyPair, fields: Record<string, string>): string {
  const sorted = Object.keys(fields)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${JSON.stringify(fields[key])}`);
  const digest = createHash("sha256")
    .update(`{${sorted.join(",")}}`)
    .digest();
  return Buffer.from(keyPair.sign(digest).signature).toString("hex");
}

function deliverArgs(machine: Attested, jobId: string, prompt: string, completion: string): Json {
  const receipt = {
    model: machine.model.name,
    weights_sha256: machine.model.weights_sha256,
    request_sha256: INPUT_HASH,
    response_sha256: RESPONSE_HASH,
    prompt_tokens: prompt,
    completion_tokens: completion,
    chunks: "4",
  };
  const signature = signDocument(machine.keyPair, {
    ...receipt,
    version: "gpumarket/v1/receipt",
    escrow,
    job_id: jobId,
  });
  return { job_id: jobId, receipt, signature };
}

function failArgs(machine: Attested, jobId: string, code: string): Json {
  const signature = signDocument(machine.keyPair, {
    version: "gpumarket/v1/failure",
    escrow,
    job_id: jobId,
    code,
  });
  return { job_id: jobId, code, signature };
}

const caughtUp = () => waitIndexed(app, chain);
const api = (path: string) => apiGet(app, path);

beforeAll(async () => {
  chain = await Chain.start();
  flows = await RegistryFlows.deploy(chain);
  await chain.callOk(flows.owner, flows.registry, "set_dev_mode", { enabled: true });
  treasury = await chain.createAccount("treasury");
  const arbiter = await chain.createAccount("arbiter");
  escrow = await chain.createAccount("escrow", 60n);
  await chain.deploy(escrow, contractWasm("escrow"));
  await chain.callOk(escrow, escrow, "init", {
    owner: flows.owner,
    treasury,
    arbiter,
    registry: flows.registry,
    params: { fee_bps: 250 },
  });
  db = await createTestDatabase();
  app = await startLiveApp(chain, db, ["--registry", flows.registry, "--escrow", escrow]);
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
  await chain?.stop();
});

test("jobs, their history and balances follow the escrow exactly", async () => {
  const provider = await chain.createAccount("provider");
  const client = await chain.createAccount("client", 500n);
  await flows.registerProvider(provider);
  const added = await flows.addMachine(provider, {
    teeType: "none-dev",
    price: PRICE.toString(),
  });
  // What a client reads: the machine's attested keyset and models.
  const eligibility = await chain.view<Json>(flows.registry, "is_eligible", {
    machine_id: added.id,
  });
  const model = (eligibility.models as Attested["model"][])[0];
  if (model === undefined) throw new Error("the machine serves no model");
  const machine: Attested = {
    id: added.id,
    keyPair: added.keyPair,
    model,
    keyset: eligibility.keyset_sha256 as string,
    encryptionKey: eligibility.encryption_key as string,
  };
  await chain.callOk(client, escrow, "storage_deposit", {}, ONE_NEAR);

  // A job paid with attached NEAR, through to settlement by the client.
  await chain.callOk(client, escrow, "create_job", jobFields(machine), ONE_NEAR, MAX_GAS);
  await caughtUp();
  const created = (await api(`/v1/jobs?client=${client}`)).data as Json[];
  expect(created).toHaveLength(1);
  const jobId = created[0]?.id as string;
  expect(created[0]).toMatchObject({
    status: "requested",
    provider,
    asset: "NEAR",
    max_amount: ONE_NEAR.toString(),
  });
  await chain.callOk(provider, escrow, "accept_job", { job_id: jobId });
  await chain.callOk(provider, escrow, "deliver_job", deliverArgs(machine, jobId, "1200", "3400"));
  await chain.callOk(client, escrow, "confirm_job", { job_id: jobId });

  // A job the provider gives back unserved, with the machine's signed failure code.
  await chain.callOk(client, escrow, "create_job", jobFields(machine), ONE_NEAR, MAX_GAS);
  await caughtUp();
  const toFail = ((await api(`/v1/jobs?client=${client}&status=requested`)).data as Json[])[0];
  expect(toFail).toBeDefined();
  await chain.callOk(provider, escrow, "accept_job", { job_id: toFail?.id });
  await chain.callOk(
    provider,
    escrow,
    "fail_job",
    failArgs(machine, toFail?.id as string, "capacity"),
  );

  // A job paid from a prepaid balance, cancelled by the client: the balance comes back.
  await chain.callOk(client, escrow, "deposit", {}, 2n * ONE_NEAR);
  await chain.callOk(
    client,
    escrow,
    "create_job",
    {
      ...jobFields(machine),
      asset: "NEAR",
      max_amount: ONE_NEAR.toString(),
    },
    0n,
    MAX_GAS,
  );
  await caughtUp();
  const second = ((await api(`/v1/jobs?client=${client}&status=requested`)).data as Json[])[0];
  expect(second).toBeDefined();
  await chain.callOk(client, escrow, "cancel_job", { job_id: second?.id });

  // A job for a deactivated machine: the registry says no, the escrow refunds the balance.
  await chain.callOk(
    provider,
    flows.registry,
    "deactivate_machine",
    { machine_id: machine.id },
    10n ** 22n,
  );
  const rejected = await chain.call(
    client,
    escrow,
    "create_job",
    {
      ...jobFields(machine),
      asset: "NEAR",
      max_amount: (ONE_NEAR / 2n).toString(),
    },
    0n,
    MAX_GAS,
  );
  expect(rejected.ok).toBe(true);

  // The same through an agent's allowance: the amount goes back to the allowance too.
  const agent = await chain.createAccount("agent", 100n);
  await chain.callOk(agent, escrow, "storage_deposit", {}, ONE_NEAR);
  await chain.callOk(client, escrow, "set_allowance", {
    spender: agent,
    asset: "NEAR",
    limit: ONE_NEAR.toString(),
    period_ns: (3600n * 10n ** 9n).toString(),
  });
  const refusedForAgent = await chain.call(
    agent,
    escrow,
    "create_job",
    {
      ...jobFields(machine),
      asset: "NEAR",
      max_amount: (ONE_NEAR / 4n).toString(),
      payer: client,
    },
    0n,
    MAX_GAS,
  );
  expect(refusedForAgent.ok).toBe(true);

  // The provider withdraws part of its payout.
  const payout = await chain.view<string>(escrow, "balance_of", {
    account_id: provider,
    asset: "NEAR",
  });
  expect(BigInt(payout)).toBeGreaterThan(0n);
  await chain.callOk(
    provider,
    escrow,
    "withdraw",
    { asset: "NEAR", amount: (BigInt(payout) / 2n).toString() },
    1n,
  );
  await caughtUp();

  const settled = (await api(`/v1/jobs/${jobId}`)).data as Json;
  expect(settled).toMatchObject({
    status: "settled",
    keyset_sha256: machine.keyset,
    encryption_key: machine.encryptionKey,
    model_hash: machine.model.weights_sha256,
    model_name: machine.model.name,
    prompt_tokens: "1200",
    completion_tokens: "3400",
    chunks: "4",
    usage: "4600",
    amount_due: (4600n * PRICE).toString(),
    result_hash: RESPONSE_HASH,
    failure_code: null,
  });
  const deliveryNs = BigInt(settled.delivered_at as string) - BigInt(settled.accepted_at as string);
  expect(deliveryNs).toBeGreaterThan(0n);
  const rate = Math.round((3400 * 1e9 * 1000) / Number(deliveryNs)) / 1000;
  expect(settled.tokens_per_second).toBe(rate);
  expect((settled.history as Json[]).map((h) => h.event)).toEqual([
    "job_created",
    "job_accepted",
    "job_delivered",
    "job_settled",
  ]);
  const failed = (await api(`/v1/jobs/${toFail?.id}`)).data as Json;
  expect(failed).toMatchObject({
    status: "refunded",
    refund_reason: "provider_failed",
    failure_code: "capacity",
    client_refund: ONE_NEAR.toString(),
    keyset_sha256: machine.keyset,
    prompt_tokens: null,
    tokens_per_second: null,
  });
  expect((failed.history as Json[]).map((h) => h.event)).toEqual([
    "job_created",
    "job_accepted",
    "job_failed",
  ]);
  // The machine's throughput: the one delivered job (the failed and cancelled ones do not count).
  const described = (await api(`/v1/machines/${machine.id}`)).data as Json;
  expect(described.throughput).toEqual({
    jobs_delivered: 1,
    prompt_tokens: "1200",
    completion_tokens: "3400",
    tokens_per_second: rate,
  });
  const listed = (await api(`/v1/machines?provider=${provider}`)).data as Json[];
  expect(listed[0]?.throughput).toEqual(described.throughput);
  expect((await api(`/v1/jobs/${second?.id}`)).data).toMatchObject({
    status: "refunded",
    refund_reason: "cancelled",
  });
  const events = await db.db
    .selectFrom("events")
    .select(["event", "status", "error"])
    .where("contract", "=", escrow)
    .execute();
  expect(events.filter((e) => e.status !== "applied")).toEqual([]);
  expect(events.map((e) => e.event)).toContain("job_rejected");

  for (const account of [provider, client, treasury]) {
    const chainBalance = await chain.view<string>(escrow, "balance_of", {
      account_id: account,
      asset: "NEAR",
    });
    const indexed = (await api(`/v1/balances?account_id=${account}`)).data as Json[];
    expect(indexed.find((b) => b.asset === "NEAR")?.amount ?? "0", account).toBe(chainBalance);
  }
  const allowance = await chain.view<Json>(escrow, "allowance", {
    owner: client,
    spender: agent,
    asset: "NEAR",
  });
  expect(allowance.spent).toBe("0");
  const indexedAllowance = await db.db
    .selectFrom("allowances")
    .select(["spent", "period_start"])
    .where("owner", "=", client)
    .where("spender", "=", agent)
    .executeTakeFirstOrThrow();
  expect(indexedAllowance).toEqual({ spent: "0", period_start: allowance.period_start });
  const stats = (await api("/v1/stats")).data as Json;
  expect(stats.jobs).toEqual({ settled: 1, refunded: 2 });

  const report = await reconcile({
    db: db.db,
    rpcUrl: chain.rpcUrl,
    contracts: { registry: flows.registry, escrow, governance: null },
    sample: null,
  });
  expect(report.differences).toEqual([]);
  expect(report.checked.jobs).toBe(3);
  expect(report.checked.balances).toBeGreaterThanOrEqual(3);
});

test("sessions, their history and balances follow the escrow exactly", async () => {
  const provider = await chain.createAccount("session-provider");
  const client = await chain.createAccount("session-client", 100n);
  await flows.registerProvider(provider);
  const added = await flows.addMachine(provider, { teeType: "none-dev", price: PRICE.toString() });
  const eligibility = await chain.view<Json>(flows.registry, "is_eligible", {
    machine_id: added.id,
  });
  await chain.callOk(client, escrow, "storage_deposit", {}, ONE_NEAR);
  // The client's session key signs vouchers.
  const sessionKey = KeyPair.fromRandom("ed25519");
  await chain.callOk(
    client,
    escrow,
    "open_session",
    {
      machine_id: added.id,
      client_key: sessionKey.getPublicKey().toString(),
      keyset_sha256: eligibility.keyset_sha256,
      max_price_per_unit: PRICE.toString(),
      expires_within_ns: (120n * SECOND_NS).toString(),
    },
    ONE_NEAR,
    MAX_GAS,
  );
  await caughtUp();
  const opened = ((await api(`/v1/sessions?client=${client}`)).data as Json[])[0];
  expect(opened).toMatchObject({ status: "open", provider, budget: ONE_NEAR.toString() });
  const sessionId = opened?.id as string;
  const paid = ONE_NEAR / 4n;
  const voucher = {
    amount: paid.toString(),
    nonce: "7",
    signature: signDocument(sessionKey, {
      version: "gpumarket/v1/voucher",
      escrow,
      session_id: sessionId,
      amount: paid.toString(),
      nonce: "7",
    }),
  };
  await chain.callOk(provider, escrow, "close_session", { session_id: sessionId, voucher });
  await chain.callOk(client, escrow, "settle_session", { session_id: sessionId });
  await caughtUp();

  const indexed = (await api(`/v1/sessions/${sessionId}`)).data as Json;
  const onChain = await chain.view<Json>(escrow, "session", { session_id: sessionId });
  const fee = (paid * 250n) / 10_000n;
  expect(indexed).toMatchObject({
    ...onChain,
    status: "settled",
    claimed: paid.toString(),
    provider_payout: (paid - fee).toString(),
    client_refund: (ONE_NEAR - paid).toString(),
  });
  expect((indexed.history as Json[]).map((h) => h.event)).toEqual([
    "session_opened",
    "session_closing",
    "session_settled",
  ]);
  for (const account of [provider, client, treasury]) {
    const chainBalance = await chain.view<string>(escrow, "balance_of", {
      account_id: account,
      asset: "NEAR",
    });
    const balances = (await api(`/v1/balances?account_id=${account}`)).data as Json[];
    expect(balances.find((b) => b.asset === "NEAR")?.amount ?? "0", account).toBe(chainBalance);
  }
  const report = await reconcile({
    db: db.db,
    rpcUrl: chain.rpcUrl,
    contracts: { registry: flows.registry, escrow, governance: null },
    sample: null,
  });
  expect(report.differences).toEqual([]);
  expect(report.checked.sessions).toBe(1);
});

test("indexed again from scratch in one batch, the tables are those of following block by block", async () => {
  await caughtUp();
  await expectSameTablesInOneBatch(chain, db, {
    registry: flows.registry,
    escrow,
    governance: null,
  });
});

test("bad job queries are answered 400", async () => {
  for (const [path, message] of [
    ["/v1/jobs?status=done", "status: must be one of requested"],
    ["/v1/jobs/x1", "job id: must be a u64 decimal integer"],
    ["/v1/jobs?machine_id=-1", "machine_id: must be a u64"],
    ["/v1/balances?asset=NE AR", "asset: must be NEAR or a token account id"],
  ] as const) {
    const response = await fetch(`${app.apiUrl}${path}`);
    expect(response.status, path).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
      message,
    );
  }
});
