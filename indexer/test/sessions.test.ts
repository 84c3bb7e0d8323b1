/**
 * Inference sessions (escrow version 4) from events built per contracts/common/src/escrow-types.ts
 * (the contract is not needed): decoding (every session event, params with and without the
 * session lifetimes, bad data named), applying a chain of sessions funded every way (rows,
 * history, balances and allowances exact; block by block and in one batch alike), inconsistent
 * events recorded as invalid, the API (filters, pages, one session with its history, stats,
 * 400s and 404s), and reconciliation against the escrow's session views (a local JSON-RPC double
 * answering them).
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createApi, listen } from "../src/api/server.ts";
import type { Contracts } from "../src/decode/contracts.ts";
import { decodeEventJson } from "../src/decode/decode-block.ts";
import { Indexer } from "../src/indexer.ts";
import { silentLogger } from "../src/log.ts";
import { reconcile } from "../src/reconcile/reconcile.ts";
import { createTestDatabase, type TestDatabase } from "./support/db.ts";
import { dumpTables } from "./support/dump.ts";
import { eventChain, type LoggedEvent, timestampAt } from "./support/event-chain.ts";
import { MemorySource } from "./support/fixtures.ts";
import { runInBackground } from "./support/run.ts";

type Json = Record<string, unknown>;

const ESCROW = "escrow.sessions.near";
const OWNER = "owner.sessions.near";
const TREASURY = "treasury.sessions.near";
const ARBITER = "arbiter.sessions.near";
const REGISTRY = "registry.sessions.near";
const TOKEN = "usdc.sessions.near";
const ALICE = "alice.near";
const BOB = "bob.near";
const CAROL = "carol.near";
const DAVE = "dave.near";
const PROV = "prov.near";
const PROV2 = "prov2.near";
const CONTRACTS: Contracts = { registry: null, escrow: ESCROW, governance: null };

const CLIENT_KEY = "ed25519:11111111111111111111111111111111";
const MACHINE_KEY = "ed25519:7Q4mNWuFTGgJ8RyCzYsCgJrSwk8a6Z3XmWdBZfTqsGJf";
const KEYSET = "ab".repeat(32);
const ENCRYPTION_KEY = `x25519:${"cd".repeat(32)}`;
const HOUR_NS = 3_600_000_000_000n;

const PARAMS_V3 = {
  fee_bps: 250,
  dispute_window_ns: "600000000000",
  arbitration_window_ns: "86400000000000",
  min_accept_ns: "60000000000",
  max_accept_ns: "604800000000000",
  min_deliver_ns: "60000000000",
  max_deliver_ns: "604800000000000",
  max_page_size: 100,
};
const PARAMS_V4 = { ...PARAMS_V3, min_session_ns: "30000000000", max_session_ns: "86400000000000" };

const at = (height: number): string => timestampAt(height).toString();

function request(overrides: Json = {}): Json {
  return {
    client: ALICE,
    payer: ALICE,
    machine_id: "1",
    client_key: CLIENT_KEY,
    asset: "NEAR",
    budget: "600",
    keyset_sha256: KEYSET,
    max_price_per_unit: "2",
    expires_within_ns: HOUR_NS.toString(),
    source: "balance",
    ...overrides,
  };
}

/** A session as the escrow opens it at `height`, with `overrides`. */
function session(id: string, height: number, overrides: Json = {}): Json {
  return {
    id,
    client: ALICE,
    payer: ALICE,
    client_key: CLIENT_KEY,
    machine_id: "1",
    provider: PROV,
    machine_public_key: MACHINE_KEY,
    price_per_unit: "2",
    fee_bps: 250,
    keyset_sha256: KEYSET,
    encryption_key: ENCRYPTION_KEY,
    asset: "NEAR",
    budget: "600",
    claimed: "0",
    nonce: "0",
    voucher_signature: null,
    status: "open",
    opened_at: at(height),
    expires_at: (timestampAt(height) + HOUR_NS).toString(),
    closed_by: null,
    closing_at: null,
    dispute_deadline: null,
    disputed_at: null,
    dispute_reason: null,
    arbitration_deadline: null,
    resolution_note: null,
    slash_requested: false,
    provider_payout: null,
    fee: null,
    client_refund: null,
    closed_at: null,
    settled_by: null,
    ...overrides,
  };
}

function allowance(spent: string): Json {
  return {
    owner: ALICE,
    spender: BOB,
    asset: "NEAR",
    limit: "500",
    period_ns: "86400000000000",
    period_start: at(2),
    spent,
  };
}

const ev = (event: string, data: unknown, predecessor = ALICE): LoggedEvent => ({
  event,
  data,
  predecessor,
});

// Session 1: alice, from her balance; claimed, closed by the provider, settled early by alice.
const s1 = session("1", 4);
const s1Claimed = { ...s1, claimed: "100", nonce: "1", voucher_signature: "aa".repeat(64) };
const s1Closing = {
  ...s1Claimed,
  claimed: "250",
  nonce: "2",
  voucher_signature: "bb".repeat(64),
  status: "closing",
  closed_by: "provider",
  closing_at: at(6),
  dispute_deadline: (timestampAt(6) + 600_000_000_000n).toString(),
};
// 250 claimed at 250 bps: fee 6 (rounded down), the provider 244, alice gets 350 back.
const s1Settled = {
  ...s1Closing,
  status: "settled",
  provider_payout: "244",
  fee: "6",
  client_refund: "350",
  closed_at: at(7),
  settled_by: "counterparty",
};
// Session 2: carol, attached NEAR, on prov2's machine 2; closed by carol, disputed, resolved.
const s2 = session("2", 6, {
  client: CAROL,
  payer: CAROL,
  machine_id: "2",
  provider: PROV2,
  price_per_unit: "3",
  budget: "1000",
});
const s2Closing = {
  ...s2,
  claimed: "700",
  nonce: "5",
  voucher_signature: "cc".repeat(64),
  status: "closing",
  closed_by: "client",
  closing_at: at(8),
  dispute_deadline: (timestampAt(8) + 600_000_000_000n).toString(),
};
const s2Disputed = {
  ...s2Closing,
  status: "disputed",
  disputed_at: at(9),
  dispute_reason: "claimed more than my receipts",
  arbitration_deadline: (timestampAt(9) + 86_400_000_000_000n).toString(),
};
const s2Resolved = {
  ...s2Disputed,
  status: "resolved",
  resolution_note: "receipts show 400",
  provider_payout: "390",
  fee: "10",
  client_refund: "600",
  closed_at: at(10),
};
// Session 3: carol, paid in tokens through ft_transfer_call; stays open.
const s3 = session("3", 9, { client: CAROL, payer: CAROL, asset: TOKEN, budget: "5000" });
// Session 4: bob, paid from alice's balance through her allowance; stays open.
const s4 = session("4", 10, { client: BOB, budget: "200" });

const BLOCKS: LoggedEvent[][] = [
  [
    ev(
      "escrow_initialized",
      {
        owner: OWNER,
        treasury: TREASURY,
        arbiter: ARBITER,
        registry: REGISTRY,
        params: PARAMS_V4,
        version: 4,
      },
      ESCROW,
    ),
  ],
  [
    ev("deposit", { account_id: ALICE, asset: "NEAR", amount: "1000", deposited: "1000" }),
    ev("allowance_set", allowance("0")),
  ],
  [ev("session_pending", { ...request(), allowance: null })],
  [ev("session_opened", s1, REGISTRY)],
  [
    ev("session_claimed", s1Claimed, PROV),
    ev(
      "session_pending",
      {
        ...request({
          client: CAROL,
          payer: CAROL,
          machine_id: "2",
          budget: "1000",
          source: "attached",
        }),
        allowance: null,
      },
      CAROL,
    ),
  ],
  [ev("session_opened", s2, REGISTRY), ev("session_closing", s1Closing, PROV)],
  [
    ev("session_settled", s1Settled),
    ev(
      "session_pending",
      {
        ...request({ client: BOB, budget: "300", source: "allowance" }),
        allowance: allowance("300"),
      },
      BOB,
    ),
  ],
  [
    ev(
      "session_rejected",
      {
        ...request({ client: BOB, budget: "300", source: "allowance" }),
        reason: "machine 1 is not eligible: provider paused",
        refunded_to: ALICE,
        allowance: allowance("0"),
      },
      REGISTRY,
    ),
    ev("session_closing", s2Closing, CAROL),
  ],
  [
    ev("session_disputed", s2Disputed, CAROL),
    ev(
      "session_pending",
      {
        ...request({ client: CAROL, payer: CAROL, asset: TOKEN, budget: "5000", source: "token" }),
        allowance: null,
      },
      TOKEN,
    ),
    ev("session_opened", s3, REGISTRY),
  ],
  [
    ev("session_resolved", s2Resolved, ARBITER),
    ev(
      "session_slash_requested",
      {
        session_id: "2",
        provider: PROV2,
        machine_id: "2",
        arbiter: ARBITER,
        reason: "overcharged",
      },
      ARBITER,
    ),
    ev(
      "session_pending",
      {
        ...request({ client: BOB, budget: "200", source: "allowance" }),
        allowance: allowance("200"),
      },
      BOB,
    ),
    ev("session_opened", s4, REGISTRY),
  ],
];

async function index(
  db: TestDatabase,
  blocks: LoggedEvent[][],
  batchBlocks?: number,
): Promise<Indexer> {
  const source = new MemorySource(eventChain(ESCROW, blocks));
  const indexer = new Indexer({
    pool: db.pool,
    source,
    contracts: CONTRACTS,
    network: "localnet",
    startHeight: 1,
    log: silentLogger,
    batchBlocks,
  });
  const running = runInBackground(indexer);
  await running.reach(source.final);
  await running.stop();
  return indexer;
}

function decodeOne(event: string, data: unknown) {
  return decodeEventJson(
    "escrow",
    JSON.stringify({ standard: "gpumarket", version: "1.0.0", event, data: [data] }),
  );
}

describe("decoding session events", () => {
  test("every session event of the chain decodes, as do params with and without session lifetimes", () => {
    for (const { event, data } of BLOCKS.flat()) {
      const parsed = decodeOne(event, data);
      expect([event, parsed.status, parsed.error]).toEqual([event, "applied", null]);
      expect(parsed.items).toEqual([data]);
    }
    const v3 = decodeOne("params_updated", { params: PARAMS_V3 });
    expect(v3.status).toBe("applied");
    expect(v3.items).toEqual([{ params: PARAMS_V3 }]);
    expect(decodeOne("params_updated", { params: PARAMS_V4 }).items).toEqual([
      { params: PARAMS_V4 },
    ]);
  });

  test.each([
    [
      "session_opened",
      { ...s1, client_key: "ed25519:0OIl" },
      'data[0].client_key: expected "ed25519:<base58>"',
    ],
    [
      "session_opened",
      { ...s1, client_key: CLIENT_KEY.slice(8) },
      'data[0].client_key: expected "ed25519:<base58>"',
    ],
    [
      "session_opened",
      { ...s1, keyset_sha256: KEYSET.toUpperCase() },
      "data[0].keyset_sha256: expected 64 lowercase hex digits",
    ],
    [
      "session_opened",
      { ...s1, encryption_key: `x25519:${"cd".repeat(31)}` },
      'data[0].encryption_key: expected "x25519:" and 64 lowercase hex digits',
    ],
    [
      "session_claimed",
      { ...s1Claimed, voucher_signature: "aa".repeat(63) },
      "data[0].voucher_signature: expected 128 lowercase hex digits",
    ],
    [
      "session_claimed",
      { ...s1Claimed, nonce: "01" },
      "data[0].nonce: expected a u64 decimal string",
    ],
    [
      "session_claimed",
      { ...s1Claimed, claimed: 100 },
      "data[0].claimed: expected a u128 decimal string, got 100",
    ],
    [
      "session_opened",
      { ...s1, budget: (1n << 128n).toString() },
      "data[0].budget: expected a u128 decimal string",
    ],
    [
      "session_opened",
      { ...s1, fee_bps: 10_001 },
      "data[0].fee_bps: expected an integer from 0 to 10000, got 10001",
    ],
    [
      "session_opened",
      { ...s1, status: "expired" },
      "data[0].status: expected one of open, closing, disputed, settled, resolved",
    ],
    [
      "session_closing",
      { ...s1Closing, closed_by: "arbiter" },
      "data[0].closed_by: expected one of provider, client",
    ],
    [
      "session_settled",
      { ...s1Settled, settled_by: "client" },
      "data[0].settled_by: expected one of counterparty, dispute_window, arbitration_timeout",
    ],
    [
      "session_opened",
      { ...s1, slash_requested: "no" },
      "data[0].slash_requested: expected a boolean",
    ],
    ["session_opened", { ...s1, extra: 1 }, "data[0].extra: unexpected field"],
    ["session_opened", (({ expires_at: _, ...rest }) => rest)(s1), "data[0].expires_at: missing"],
    [
      "session_pending",
      { ...request({ source: "approval" }), allowance: null },
      "data[0].source: expected one of attached, token, balance, allowance",
    ],
    ["session_pending", request(), "data[0].allowance: missing"],
    [
      "session_pending",
      { ...request({ max_price_per_unit: null }), allowance: null },
      "data[0].max_price_per_unit: expected a u128 decimal string, got null",
    ],
    [
      "session_rejected",
      { ...request(), allowance: null, refunded_to: ALICE },
      "data[0].reason: missing",
    ],
    [
      "session_slash_requested",
      { session_id: "x", provider: PROV, machine_id: "1", arbiter: ARBITER, reason: "r" },
      'data[0].session_id: expected a u64 decimal string, got "x"',
    ],
    [
      "params_updated",
      { params: { ...PARAMS_V4, min_session_ns: 60 } },
      "data[0].params.min_session_ns: expected a u64 decimal string, got 60",
    ],
  ])("%s with bad data is invalid, naming the field (%#)", (event, data, error) => {
    const parsed = decodeOne(event, data);
    expect(parsed.status).toBe("invalid");
    expect(parsed.error).toContain(error);
    expect(parsed.items).toEqual([]);
  });
});

let db: TestDatabase;
let oneBatchDb: TestDatabase;
let url: string;
let server: Server;

beforeAll(async () => {
  db = await createTestDatabase();
  oneBatchDb = await createTestDatabase();
  await index(db, BLOCKS, 1);
  await index(oneBatchDb, BLOCKS);
  server = createApi({ db: db.db, pool: db.pool, log: silentLogger, health: { maxLagBlocks: 5 } });
  url = await listen(server, "127.0.0.1", 0);
});

afterAll(async () => {
  server?.close();
  await db?.drop();
  await oneBatchDb?.drop();
});

/** The session's row as the table holds it: the record's fields and the height it was written. */
const rowOf = (record: Json, height: number): Json => ({
  ...record,
  updated_height: String(height),
});

describe("applying sessions", () => {
  test("one row per session, every field as the last event carried it", async () => {
    const rows = await db.db.selectFrom("sessions").selectAll().orderBy("id").execute();
    expect(rows).toEqual([
      rowOf(s1Settled, 7),
      rowOf({ ...s2Resolved, slash_requested: true }, 10),
      rowOf(s3, 9),
      rowOf(s4, 10),
    ]);
  });

  test("balances: budgets leave the payer's balance when paid from it, closes credit provider, treasury and payer", async () => {
    const balances = await db.db
      .selectFrom("balances")
      .select(["account_id", "asset", "amount"])
      .execute();
    balances.sort((a, b) => (a.account_id < b.account_id ? -1 : 1));
    // alice: 1000 - 600 (session 1) + 350 (its refund) - 300 + 300 (bob's refused session)
    // - 200 (bob's session 4). Carol's attached NEAR and tokens never were a balance.
    expect(balances).toEqual([
      { account_id: ALICE, asset: "NEAR", amount: "550" },
      { account_id: CAROL, asset: "NEAR", amount: "600" },
      { account_id: PROV, asset: "NEAR", amount: "244" },
      { account_id: PROV2, asset: "NEAR", amount: "390" },
      { account_id: TREASURY, asset: "NEAR", amount: "16" },
    ]);
    const allowances = await db.db.selectFrom("allowances").selectAll().execute();
    expect(allowances).toEqual([
      {
        owner: ALICE,
        spender: BOB,
        asset: "NEAR",
        limit_amount: "500",
        period_ns: "86400000000000",
        period_start: at(2),
        spent: "200",
        updated_height: "10",
      },
    ]);
  });

  test("every event of a session is in its history, in chain order", async () => {
    const history = await db.db
      .selectFrom("session_history")
      .select(["session_id", "event", "status", "block_height", "block_timestamp"])
      .orderBy("block_height")
      .orderBy("receipt_id")
      .execute();
    expect(history.map((h) => [h.session_id, h.event, h.status, h.block_height])).toEqual([
      ["1", "session_opened", "open", "4"],
      ["1", "session_claimed", "open", "5"],
      ["2", "session_opened", "open", "6"],
      ["1", "session_closing", "closing", "6"],
      ["1", "session_settled", "settled", "7"],
      ["2", "session_closing", "closing", "8"],
      ["2", "session_disputed", "disputed", "9"],
      ["3", "session_opened", "open", "9"],
      ["2", "session_resolved", "resolved", "10"],
      ["2", "session_slash_requested", "resolved", "10"],
      ["4", "session_opened", "open", "10"],
    ]);
    expect(history[0]?.block_timestamp).toBe(at(4));
    const events = await db.db.selectFrom("events").select(["status"]).execute();
    expect(events.every((e) => e.status === "applied")).toBe(true);
    expect(events).toHaveLength(BLOCKS.flat().length);
  });

  test("indexed in one batch, the tables are those of indexing block by block", async () => {
    expect(await dumpTables(oneBatchDb)).toEqual(await dumpTables(db));
  });

  test("the escrow's params keep the session lifetimes it logged", async () => {
    const state = await db.db.selectFrom("escrow_state").selectAll().executeTakeFirstOrThrow();
    expect(state.params).toEqual(PARAMS_V4);
    expect(state.contract_version).toBe(4);
  });
});

describe("inconsistent session events are recorded as invalid, the rest applies", () => {
  test("unknown sessions, a budget above the balance, a session opened twice, a close paying other than the budget; migration to 4 gives the default lifetimes", async () => {
    const bad = await createTestDatabase();
    try {
      const d1 = session("1", 5, { client: DAVE, payer: DAVE, budget: "100" });
      const settled = {
        ...d1,
        status: "settled",
        claimed: "50",
        nonce: "1",
        voucher_signature: "dd".repeat(64),
        closed_by: "provider",
        closing_at: at(6),
        dispute_deadline: at(7),
        provider_payout: "49",
        fee: "1",
        client_refund: "50",
        closed_at: at(7),
        settled_by: "dispute_window",
      };
      const blocks: LoggedEvent[][] = [
        [
          ev(
            "escrow_initialized",
            {
              owner: OWNER,
              treasury: TREASURY,
              arbiter: ARBITER,
              registry: REGISTRY,
              params: PARAMS_V3,
              version: 3,
            },
            ESCROW,
          ),
        ],
        [
          ev("session_claimed", session("9", 2), PROV),
          ev(
            "session_pending",
            { ...request({ client: DAVE, payer: DAVE, budget: "5" }), allowance: null },
            DAVE,
          ),
          ev(
            "session_slash_requested",
            { session_id: "9", provider: PROV, machine_id: "1", arbiter: ARBITER, reason: "r" },
            ARBITER,
          ),
        ],
        [ev("contract_migrated", { from_version: 3, to_version: 4 }, ESCROW)],
        [
          ev("deposit", { account_id: DAVE, asset: "NEAR", amount: "100", deposited: "100" }, DAVE),
          ev(
            "session_pending",
            { ...request({ client: DAVE, payer: DAVE, budget: "100" }), allowance: null },
            DAVE,
          ),
        ],
        [ev("session_opened", d1, REGISTRY)],
        [ev("session_opened", d1, REGISTRY)],
        [
          ev("session_settled", { ...settled, client_refund: "51" }, PROV),
          ev("session_settled", settled, PROV),
        ],
      ];
      await index(bad, blocks);
      const events = await bad.db
        .selectFrom("events")
        .select(["block_height", "event", "status", "error"])
        .where("status", "<>", "applied")
        .orderBy("block_height")
        .orderBy("seq")
        .execute();
      expect(events).toEqual([
        {
          block_height: "2",
          event: "session_claimed",
          status: "invalid",
          error: "the event names session 9, which the index does not have",
        },
        {
          block_height: "2",
          event: "session_pending",
          status: "invalid",
          error: `${DAVE} pays 5 NEAR from a balance of 0 in the index`,
        },
        {
          block_height: "2",
          event: "session_slash_requested",
          status: "invalid",
          error: "the event names session 9, which the index does not have",
        },
        {
          block_height: "6",
          event: "session_opened",
          status: "invalid",
          error: "session 1 is opened again; the index has it",
        },
        {
          block_height: "7",
          event: "session_settled",
          status: "invalid",
          error:
            "session 1 closes paying 101 (provider_payout + fee + client_refund) of a budget of 100",
        },
      ]);
      const rows = await bad.db.selectFrom("sessions").selectAll().execute();
      expect(rows).toEqual([rowOf(settled, 7)]);
      const balances = await bad.db
        .selectFrom("balances")
        .select(["account_id", "amount"])
        .execute();
      balances.sort((a, b) => (a.account_id < b.account_id ? -1 : 1));
      expect(balances).toEqual([
        { account_id: DAVE, amount: "50" },
        { account_id: PROV, amount: "49" },
        { account_id: TREASURY, amount: "1" },
      ]);
      const state = await bad.db.selectFrom("escrow_state").selectAll().executeTakeFirstOrThrow();
      expect(state.contract_version).toBe(4);
      expect(state.params).toEqual({
        ...PARAMS_V3,
        min_session_ns: "60000000000",
        max_session_ns: "604800000000000",
      });
    } finally {
      await bad.drop();
    }
  });
});

async function get(path: string): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${url}${path}`);
  return { status: response.status, body: (await response.json()) as Json };
}

async function ids(path: string): Promise<string[]> {
  const { status, body } = await get(path);
  expect(status, JSON.stringify(body)).toBe(200);
  return (body.data as Json[]).map((s) => s.id as string);
}

describe("the sessions API", () => {
  test("lists sessions newest first, every field, as of the indexed block", async () => {
    const { status, body } = await get("/v1/sessions");
    expect(status).toBe(200);
    expect(body.as_of).toEqual({ block_height: 10, block_timestamp: at(10) });
    expect(body.next_cursor).toBeNull();
    const data = body.data as Json[];
    expect(data.map((s) => s.id)).toEqual(["4", "3", "2", "1"]);
    expect(data[3]).toEqual(rowOf(s1Settled, 7));
  });

  test.each([
    [`client=${ALICE}`, ["1"]],
    [`payer=${ALICE}`, ["4", "1"]],
    [`client=${BOB}`, ["4"]],
    [`provider=${PROV2}`, ["2"]],
    [`provider=${PROV}`, ["4", "3", "1"]],
    ["machine_id=2", ["2"]],
    ["machine_id=7", []],
    ["status=open", ["4", "3"]],
    ["status=resolved", ["2"]],
    [`status=open&client=${CAROL}`, ["3"]],
    [`status=settled&provider=${PROV2}`, []],
  ])("filter %s", async (filter, expected) => {
    expect(await ids(`/v1/sessions?${filter}`)).toEqual(expected);
  });

  test("pages of one session each, with the filter kept, the last page without a cursor", async () => {
    const seen: string[] = [];
    let path = `/v1/sessions?provider=${PROV}&limit=1`;
    for (;;) {
      const { body } = await get(path);
      seen.push(...(body.data as Json[]).map((s) => s.id as string));
      if (body.next_cursor === null) break;
      path = `/v1/sessions?provider=${PROV}&limit=1&cursor=${body.next_cursor as string}`;
    }
    expect(seen).toEqual(["4", "3", "1"]);
  });

  test("one session with its history; an unknown one is 404", async () => {
    const { status, body } = await get("/v1/sessions/2");
    expect(status).toBe(200);
    const { history, ...fields } = body.data as Json;
    expect(fields).toEqual(rowOf({ ...s2Resolved, slash_requested: true }, 10));
    expect(history).toEqual([
      {
        event: "session_opened",
        status: "open",
        block_height: "6",
        block_timestamp: at(6),
        tx_hash: "tx-6-0",
        predecessor: REGISTRY,
      },
      expect.objectContaining({ event: "session_closing", status: "closing", predecessor: CAROL }),
      expect.objectContaining({ event: "session_disputed", status: "disputed" }),
      expect.objectContaining({ event: "session_resolved", predecessor: ARBITER }),
      expect.objectContaining({ event: "session_slash_requested", tx_hash: "tx-10-1" }),
    ]);
    const missing = await get("/v1/sessions/99");
    expect(missing.status).toBe(404);
    expect((missing.body.error as Json).code).toBe("not_found");
  });

  test("stats count sessions by status, the budget still escrowed and the closed sessions' payouts", async () => {
    const { body } = await get("/v1/stats");
    const data = body.data as Json;
    expect(data.sessions).toEqual({ open: 2, settled: 1, resolved: 1 });
    expect(data.session_escrow_by_asset).toEqual([
      { asset: "NEAR", open_sessions: 1, budget: "200", claimed: "0" },
      { asset: TOKEN, open_sessions: 1, budget: "5000", claimed: "0" },
    ]);
    expect(data.session_volume_by_asset).toEqual([
      { asset: "NEAR", paid_to_providers: "634", fees: "16", refunded: "950" },
    ]);
  });

  test.each([
    [
      "/v1/sessions?status=expired",
      "status: must be one of open, closing, disputed, settled, resolved",
    ],
    ["/v1/sessions?machine_id=-1", "machine_id: must be a u64 as a decimal integer"],
    ["/v1/sessions?machine_id=18446744073709551616", "machine_id: must be a u64"],
    ["/v1/sessions?client=Not_An_Account!", "client: must be a NEAR account id"],
    ["/v1/sessions?provider=", "provider: must be 1 to 64 characters"],
    ["/v1/sessions?limit=0", "limit: must be an integer from 1 to 100"],
    ["/v1/sessions?limit=101", "limit: must be an integer from 1 to 100"],
    ["/v1/sessions?cursor=garbage", "cursor: not a cursor returned by this endpoint"],
    ["/v1/sessions?cursor=WyJ4Il0", 'cursor: must be a u64 decimal integer, got "x"'],
    ["/v1/sessions?status=open&status=closing", "status: given more than once"],
    ["/v1/sessions?machine=1", "machine: unknown parameter"],
    ["/v1/sessions/abc", 'session id: must be a u64 decimal integer, got "abc"'],
    ["/v1/sessions/1?history=false", "history: unknown parameter"],
  ])("%s is 400", async (path, message) => {
    const { status, body } = await get(path);
    expect(status).toBe(400);
    expect((body.error as Json).code).toBe("bad_request");
    expect((body.error as Json).message).toContain(message);
  });
});

/**
 * A JSON-RPC server answering `query` call_function with `views[method](args)` (a test double of
 * the escrow's views); the block each call named is recorded.
 */
async function viewServer(
  views: Record<string, (args: Json) => unknown>,
): Promise<{ url: string; blocks: unknown[]; close: () => void }> {
  const blocks: unknown[] = [];
  const rpc = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    req.on("end", () => {
      const { id, params } = JSON.parse(body) as {
        id: number;
        params: { method_name: string; args_base64: string; block_id: unknown };
      };
      blocks.push(params.block_id);
      const view = views[params.method_name];
      const args = JSON.parse(Buffer.from(params.args_base64, "base64").toString("utf8")) as Json;
      const answer =
        view === undefined
          ? { jsonrpc: "2.0", id, result: { error: `MethodNotFound ${params.method_name}` } }
          : {
              jsonrpc: "2.0",
              id,
              result: { result: [...Buffer.from(JSON.stringify(view(args)))] },
            };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(answer));
    });
  });
  const base = await listen(rpc, "127.0.0.1", 0);
  return { url: base, blocks, close: () => rpc.close() };
}

describe("reconciliation against the escrow's views", () => {
  const chainSessions = (): Json[] => [s1Settled, { ...s2Resolved, slash_requested: true }, s3, s4];
  const chainBalances: Record<string, string> = {
    [`${ALICE}/NEAR`]: "550",
    [`${CAROL}/NEAR`]: "600",
    [`${PROV}/NEAR`]: "244",
    [`${PROV2}/NEAR`]: "390",
    [`${TREASURY}/NEAR`]: "16",
  };

  function views(sessions: Json[]): Record<string, (args: Json) => unknown> {
    return {
      escrow_info: () => ({
        owner: OWNER,
        treasury: TREASURY,
        arbiter: ARBITER,
        registry: REGISTRY,
        params: PARAMS_V4,
        version: 4,
      }),
      jobs: () => [],
      balance_of: (a) => chainBalances[`${a.account_id}/${a.asset}`] ?? "0",
      session: (a) => sessions.find((x) => x.id === a.session_id) ?? null,
      sessions_by_provider: (a) => {
        const from = Number(a.from_index);
        return sessions
          .filter((x) => x.provider === a.account_id)
          .slice(from, from + Number(a.limit));
      },
    };
  }

  test("every session and balance agrees with the chain; a changed field and a session the index lacks are reported", async () => {
    const same = await viewServer(views(chainSessions()));
    try {
      const report = await reconcile({
        db: db.db,
        rpcUrl: same.url,
        contracts: CONTRACTS,
        sample: null,
      });
      expect(report.differences).toEqual([]);
      expect(report.checked).toMatchObject({ escrow_state: 1, sessions: 4, balances: 5 });
      // Every view names the block indexed last.
      expect(new Set(same.blocks)).toEqual(new Set(["event-chain-block-10"]));
    } finally {
      same.close();
    }
    const extra = session("5", 10, { provider: PROV2, machine_id: "2" });
    const sessions = chainSessions().map((x) => (x.id === "4" ? { ...x, claimed: "20" } : x));
    const other = await viewServer(views([...sessions, extra]));
    try {
      const report = await reconcile({
        db: db.db,
        rpcUrl: other.url,
        contracts: CONTRACTS,
        sample: null,
      });
      expect(report.differences).toEqual([
        { table: "sessions", key: "4", field: "claimed", database: "0", chain: "20" },
        { table: "sessions", key: "5", field: "(record)", database: null, chain: "present" },
      ]);
    } finally {
      other.close();
    }
  });
});
