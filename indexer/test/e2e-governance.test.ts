/**
 * End to end with the real governance contract on localnet: token holders from the initial mint
 * and a transfer, delegation, a proposal voted on, queued and executed (a config change); the
 * proposal's status at each step as the contract's view says, the votes, the holders, and a
 * reconciliation with no differences.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import type { App } from "../src/app.ts";
import { reconcile } from "../src/reconcile/reconcile.ts";
import { ViewClient } from "../src/reconcile/rpc.ts";
import { Chain, contractWasm, MAX_GAS, ONE_NEAR } from "./support/chain.ts";
import { createTestDatabase, type TestDatabase } from "./support/db.ts";
import {
  apiGet,
  expectSameTablesInOneBatch,
  startLiveApp,
  caughtUp as waitIndexed,
} from "./support/live.ts";

type Json = Record<string, unknown>;
const TOKEN = 10n ** 24n;

let chain: Chain;
let db: TestDatabase;
let app: App;
let gov: string;
let alice: string;
let bob: string;
let carol: string;
/** A contract the governance calls in proposals (declared governed at init). */
let probe: string;

const caughtUp = () => waitIndexed(app, chain);
const api = (path: string) => apiGet(app, path);

async function fastForward(blocks: number): Promise<void> {
  const response = await fetch(chain.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "sandbox_fast_forward",
      params: { delta_height: blocks },
    }),
  });
  expect(((await response.json()) as Json).error).toBeUndefined();
}

/** The proposal's status in the API equals the contract's view at the same (indexed) height. */
async function expectStatus(id: number, status: string): Promise<void> {
  await caughtUp();
  const answer = await api(`/v1/proposals/${id}`);
  const indexed = answer.data as Json;
  const height = (answer.as_of as { block_height: number }).block_height;
  const view = await new ViewClient(chain.rpcUrl, height).view<Json>(gov, "proposal", {
    proposal_id: id,
  });
  expect(view.status).toBe(status);
  expect(indexed.status).toBe(status);
}

beforeAll(async () => {
  chain = await Chain.start();
  alice = await chain.createAccount("alice", 500n);
  bob = await chain.createAccount("bob");
  carol = await chain.createAccount("carol");
  gov = await chain.createAccount("gov", 60n);
  probe = await chain.createAccount("probe", 20n);
  await chain.deploy(probe, contractWasm("probe"));
  await chain.deploy(gov, contractWasm("governance"));
  await chain.callOk(gov, gov, "init", {
    metadata: { name: "GPU Market", symbol: "GPUM" },
    config: {
      voting_delay_blocks: 10,
      voting_period_blocks: 100,
      timelock_blocks: 2,
      grace_period_blocks: 1000,
      quorum_bps: 400,
      governed: [probe],
    },
    holders: [
      { account_id: alice, amount: (600n * TOKEN).toString() },
      { account_id: bob, amount: (400n * TOKEN).toString() },
    ],
  });
  db = await createTestDatabase();
  app = await startLiveApp(chain, db, ["--governance", gov]);
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
  await chain?.stop();
});

test("holders, delegation, a proposal's life and its votes follow the contract", async () => {
  await chain.callOk(carol, gov, "storage_deposit", { account_id: carol }, ONE_NEAR / 10n);
  await chain.callOk(
    bob,
    gov,
    "ft_transfer",
    { receiver_id: carol, amount: (50n * TOKEN).toString() },
    1n,
  );
  await chain.callOk(alice, gov, "delegate", { delegatee: alice }, 1n);
  await chain.callOk(bob, gov, "delegate", { delegatee: bob }, 1n);
  await chain.callOk(carol, gov, "delegate", { delegatee: alice }, 1n);
  const proposal = (await chain.callOk(
    alice,
    gov,
    "propose",
    {
      description: "Raise the quorum to 5%",
      actions: [{ kind: "config", config: { quorum_bps: 500 } }],
    },
    ONE_NEAR / 10n,
  )) as { id: number };
  await expectStatus(proposal.id, "pending");
  await fastForward(10);
  await expectStatus(proposal.id, "active");
  await chain.callOk(
    alice,
    gov,
    "vote",
    {
      proposal_id: proposal.id,
      support: "for",
      reason: "yes",
    },
    ONE_NEAR / 100n,
  );
  await chain.callOk(
    bob,
    gov,
    "vote",
    { proposal_id: proposal.id, support: "against" },
    ONE_NEAR / 100n,
  );
  await fastForward(100);
  await expectStatus(proposal.id, "succeeded");
  await chain.callOk(alice, gov, "queue", { proposal_id: proposal.id });
  await expectStatus(proposal.id, "queued");
  await fastForward(3);
  await chain.callOk(alice, gov, "execute", { proposal_id: proposal.id }, 0n, MAX_GAS);
  await expectStatus(proposal.id, "executed");

  const detail = (await api(`/v1/proposals/${proposal.id}`)).data as Json;
  expect(detail).toMatchObject({
    proposer: alice,
    votes_for: (650n * TOKEN).toString(),
    votes_against: (350n * TOKEN).toString(),
    stage: "executed",
  });
  expect((detail.votes as Json[]).map((v) => [v.voter, v.support])).toEqual([
    [alice, "for"],
    [bob, "against"],
  ]);
  expect(((await api("/v1/proposals?status=executed")).data as Json[]).map((p) => p.id)).toEqual([
    String(proposal.id),
  ]);
  expect((await api("/v1/proposals?status=active")).data).toEqual([]);

  const holders = (await api("/v1/token/holders")).data as Json[];
  expect(holders.map((h) => [h.account_id, h.balance, h.delegate])).toEqual([
    [alice, (600n * TOKEN).toString(), alice],
    [bob, (350n * TOKEN).toString(), bob],
    [carol, (50n * TOKEN).toString(), alice],
  ]);
  expect(holders[0]?.votes).toBe((650n * TOKEN).toString());
  const state = await db.db.selectFrom("governance_state").selectAll().executeTakeFirstOrThrow();
  expect((state.config as Json).quorum_bps).toBe(500);
  const problems = await db.db
    .selectFrom("events")
    .select(["event", "error"])
    .where("status", "<>", "applied")
    .execute();
  expect(problems).toEqual([]);

  const report = await reconcile({
    db: db.db,
    rpcUrl: chain.rpcUrl,
    contracts: { registry: null, escrow: null, governance: gov },
    sample: null,
  });
  expect(report.differences).toEqual([]);
  expect(report.checked).toMatchObject({ proposals: 1, token_holders: 3, delegates: 2 });
});

test("an execution paused for gas between actions is queued in the index, then executed", async () => {
  const set = (value: string) => ({
    kind: "function_call",
    target: probe,
    method: "set",
    args: { key: "k", value },
    gas_tgas: 100,
  });
  const { id } = (await chain.callOk(
    alice,
    gov,
    "propose",
    { description: "Two calls of 100 Tgas", actions: [set("one"), set("two")] },
    ONE_NEAR / 10n,
  )) as { id: number };
  await fastForward(10);
  await chain.callOk(alice, gov, "vote", { proposal_id: id, support: "for" }, ONE_NEAR / 100n);
  await fastForward(100);
  await chain.callOk(alice, gov, "queue", { proposal_id: id });
  await fastForward(3);
  // Enough for the first call; its callback is left too little for the second.
  await chain.callOk(alice, gov, "execute", { proposal_id: id }, 0n, 190n * 10n ** 12n);
  await expectStatus(id, "queued");
  expect((await api(`/v1/proposals/${id}`)).data).toMatchObject({
    stage: "queued",
    executed_actions: 1,
  });
  await chain.callOk(alice, gov, "execute", { proposal_id: id }, 0n, MAX_GAS);
  await expectStatus(id, "executed");
  expect((await api(`/v1/proposals/${id}`)).data).toMatchObject({ executed_actions: 2 });
  const paused = await db.db
    .selectFrom("events")
    .select(["event", "status"])
    .where("event", "=", "proposal_execution_paused")
    .execute();
  expect(paused).toEqual([{ event: "proposal_execution_paused", status: "applied" }]);
});

test("indexed again from scratch in one batch, the tables are those of following block by block", async () => {
  await caughtUp();
  await expectSameTablesInOneBatch(chain, db, { registry: null, escrow: null, governance: gov });
});

test("bad governance queries are answered 400", async () => {
  for (const [path, message] of [
    ["/v1/proposals?status=won", "status: must be one of pending"],
    ["/v1/proposals/abc", "proposal id: must be a proposal id"],
    ["/v1/token/holders?limit=1000", "limit: must be an integer from 1 to 100"],
    ["/v1/token/holders?cursor=WyJ4IiwieSJd", "cursor: not a cursor"],
  ] as const) {
    const response = await fetch(`${app.apiUrl}${path}`);
    expect(response.status, path).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
      message,
    );
  }
});
