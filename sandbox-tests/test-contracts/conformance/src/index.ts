// A near-sdk-js contract in the style of near-sdk-js's own examples and tests, for localnet's
// conformance suite: collections, cross-contract calls with callbacks on standard gas budgets,
// NEP-141 ft_transfer_call and NEP-171 nft_transfer_call with the reference implementations'
// gas constants, alt_bn128 and validator stake host functions, and state every field of which
// the constructor initialises (near-sdk-js's build check). Deployed twice, each copy is the
// other's receiver. Arguments are JSON; amounts are decimal strings.

import {
  call,
  encode,
  initialize,
  LookupMap,
  NearBindgen,
  NearPromise,
  near,
  UnorderedMap,
  Vector,
  view,
} from "near-sdk-js";

const TGAS = 1_000_000_000_000n;
/** The budget near-sdk-js's cross_contract_callback examples give their callback. */
const CALLBACK_GAS = 20n * TGAS;
/** near-contract-standards' fungible_token core: resolve 5 Tgas, transfer_call 25 + 5. */
const FT_RESOLVE_GAS = 5n * TGAS;
const FT_TRANSFER_CALL_GAS = 25n * TGAS + FT_RESOLVE_GAS;
/** near-contract-standards' non_fungible_token core: resolve 16 Tgas, transfer_call 30 + 16. */
const NFT_RESOLVE_GAS = 16n * TGAS;
const NFT_TRANSFER_CALL_GAS = 30n * TGAS + NFT_RESOLVE_GAS;
const U128_MAX = (1n << 128n) - 1n;

function fail(message: string): never {
  near.panicUtf8(encode(message));
}

function text(value: unknown, name: string): string {
  if (typeof value !== "string" || value.length === 0) fail(`${name} must be a non-empty string`);
  return value;
}

function amount(value: unknown, name: string): bigint {
  if (typeof value !== "string" || !/^[0-9]{1,39}$/.test(value)) {
    fail(`${name} must be a decimal string`);
  }
  const parsed = BigInt(value);
  if (parsed > U128_MAX) fail(`${name} must be below 2^128`);
  return parsed;
}

function oneYocto(): void {
  if (near.attachedDeposit() !== 1n) fail("Requires attached deposit of exactly 1 yoctoNEAR");
}

function hexToBytes(hex: unknown, name: string): Uint8Array {
  if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) {
    fail(`${name} must be lower-case hex`);
  }
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return bytes;
}

function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** The single promise result of a callback, or null when that receipt failed. */
function promiseValue(): string | null {
  if (near.promiseResultsCount() !== 1n) fail("expected one promise result");
  try {
    return near.promiseResult(0);
  } catch {
    return null;
  }
}

@NearBindgen({ requireInit: true })
export class Conformance {
  owner: string;
  notes: UnorderedMap<string>;
  history: Vector<string>;
  balances: LookupMap<string>;
  total_supply: string;
  tokens: UnorderedMap<string>;
  last_callback: string;

  constructor() {
    this.owner = "";
    this.notes = new UnorderedMap<string>("n");
    this.history = new Vector<string>("h");
    this.balances = new LookupMap<string>("b");
    this.total_supply = "0";
    this.tokens = new UnorderedMap<string>("t");
    this.last_callback = "";
  }

  @initialize({})
  init({ owner_id, total_supply }: { owner_id: string; total_supply: string }): void {
    this.owner = text(owner_id, "owner_id");
    const supply = amount(total_supply, "total_supply");
    this.total_supply = supply.toString();
    this.balances.set(this.owner, supply.toString());
  }

  // Collections.

  @call({})
  put_note({ key, note }: { key: string; note: string }): void {
    this.notes.set(text(key, "key"), text(note, "note"));
    this.history.push(`${near.predecessorAccountId()} ${key}`);
  }

  @call({})
  remove_note({ key }: { key: string }): string | null {
    return this.notes.remove(text(key, "key"));
  }

  @view({})
  notes_page({ from, limit }: { from: number; limit: number }): [string, string][] {
    return this.notes.toArray().slice(from, from + limit);
  }

  @view({})
  counts(): { notes: number; history: number; last: string | null } {
    return {
      notes: this.notes.length,
      history: this.history.length,
      last: this.history.length === 0 ? null : this.history.get(this.history.length - 1),
    };
  }

  // A cross-contract call and its callback, on the standard callback budget.

  @call({})
  echo({ value }: { value: string }): string {
    return text(value, "value");
  }

  @call({})
  call_then({ other, value, tgas }: { other: string; value: string; tgas: number }): NearPromise {
    if (typeof tgas !== "number" || !Number.isInteger(tgas) || tgas < 1 || tgas > 100) {
      fail("tgas must be an integer from 1 to 100");
    }
    return NearPromise.new(text(other, "other"))
      .functionCall("echo", JSON.stringify({ value }), 0n, BigInt(tgas) * TGAS)
      .then(
        NearPromise.new(near.currentAccountId()).functionCall(
          "on_echo",
          JSON.stringify({ sent: value }),
          0n,
          CALLBACK_GAS,
        ),
      );
  }

  @call({ privateFunction: true })
  on_echo({ sent }: { sent: string }): string {
    const got = promiseValue();
    const outcome = got === null ? `failed:${sent}` : `ok:${JSON.parse(got) as string}`;
    this.last_callback = outcome;
    this.history.push(outcome);
    near.log(`callback ${outcome}`);
    return outcome;
  }

  @view({})
  get_last_callback(): string {
    return this.last_callback;
  }

  // NEP-141.

  @view({})
  ft_total_supply(): string {
    return this.total_supply;
  }

  @view({})
  ft_balance_of({ account_id }: { account_id: string }): string {
    return this.balances.get(text(account_id, "account_id")) ?? "0";
  }

  private moveTokens(from: string, to: string, value: bigint): void {
    if (value === 0n) fail("The amount should be a positive number");
    if (from === to) fail("Sender and receiver should be different");
    const have = BigInt(this.balances.get(from) ?? "0");
    if (have < value) fail("The account doesn't have enough balance");
    this.balances.set(from, (have - value).toString());
    this.balances.set(to, (BigInt(this.balances.get(to) ?? "0") + value).toString());
  }

  @call({ payableFunction: true })
  ft_transfer({ receiver_id, amount: value }: { receiver_id: string; amount: string }): void {
    oneYocto();
    const sender = near.predecessorAccountId();
    this.moveTokens(sender, text(receiver_id, "receiver_id"), amount(value, "amount"));
    near.log(`Transfer ${value} from ${sender} to ${receiver_id}`);
  }

  @call({ payableFunction: true })
  ft_transfer_call({
    receiver_id,
    amount: value,
    msg,
  }: {
    receiver_id: string;
    amount: string;
    msg: string;
  }): NearPromise {
    oneYocto();
    if (near.prepaidGas() < FT_TRANSFER_CALL_GAS) fail("More gas is required");
    const sender = near.predecessorAccountId();
    const receiver = text(receiver_id, "receiver_id");
    const sent = amount(value, "amount");
    this.moveTokens(sender, receiver, sent);
    return NearPromise.new(receiver)
      .functionCall(
        "ft_on_transfer",
        JSON.stringify({ sender_id: sender, amount: sent.toString(), msg }),
        0n,
        near.prepaidGas() - FT_TRANSFER_CALL_GAS,
      )
      .then(
        NearPromise.new(near.currentAccountId()).functionCall(
          "ft_resolve_transfer",
          JSON.stringify({ sender_id: sender, receiver_id: receiver, amount: sent.toString() }),
          0n,
          FT_RESOLVE_GAS,
        ),
      );
  }

  /** Receiver side: keeps the tokens unless `msg` is "refund", then returns them all. */
  @call({})
  ft_on_transfer({
    amount: value,
    msg,
  }: {
    sender_id: string;
    amount: string;
    msg: string;
  }): string {
    this.history.push(`ft ${near.predecessorAccountId()} ${value} ${msg}`);
    return msg === "refund" ? value : "0";
  }

  @call({ privateFunction: true })
  ft_resolve_transfer({
    sender_id,
    receiver_id,
    amount: value,
  }: {
    sender_id: string;
    receiver_id: string;
    amount: string;
  }): string {
    const sent = amount(value, "amount");
    const result = promiseValue();
    let unused = sent;
    if (result !== null) {
      const parsed = JSON.parse(result) as unknown;
      unused = typeof parsed === "string" && /^[0-9]+$/.test(parsed) ? BigInt(parsed) : sent;
      if (unused > sent) unused = sent;
    }
    if (unused > 0n) {
      const receiverBalance = BigInt(this.balances.get(receiver_id) ?? "0");
      const refund = unused < receiverBalance ? unused : receiverBalance;
      if (refund > 0n) {
        this.balances.set(receiver_id, (receiverBalance - refund).toString());
        const senderBalance = BigInt(this.balances.get(sender_id) ?? "0");
        this.balances.set(sender_id, (senderBalance + refund).toString());
        near.log(`Refund ${refund} from ${receiver_id} to ${sender_id}`);
        return (sent - refund).toString();
      }
    }
    return sent.toString();
  }

  // NEP-171.

  @call({})
  nft_mint({ token_id, owner_id }: { token_id: string; owner_id: string }): void {
    if (near.predecessorAccountId() !== this.owner) fail("only the owner mints");
    const id = text(token_id, "token_id");
    if (this.tokens.get(id) !== null) fail("token_id must be unique");
    this.tokens.set(id, text(owner_id, "owner_id"));
  }

  @view({})
  nft_token({ token_id }: { token_id: string }): { token_id: string; owner_id: string } | null {
    const owner = this.tokens.get(text(token_id, "token_id"));
    return owner === null ? null : { token_id, owner_id: owner };
  }

  @call({ payableFunction: true })
  nft_transfer_call({
    receiver_id,
    token_id,
    msg,
  }: {
    receiver_id: string;
    token_id: string;
    msg: string;
  }): NearPromise {
    oneYocto();
    if (near.prepaidGas() < NFT_TRANSFER_CALL_GAS) fail("More gas is required");
    const sender = near.predecessorAccountId();
    const id = text(token_id, "token_id");
    const owner = this.tokens.get(id);
    if (owner === null) fail("Token not found");
    if (owner !== sender) fail("Sender not approved");
    const receiver = text(receiver_id, "receiver_id");
    if (receiver === owner) fail("Current and next owner must differ");
    this.tokens.set(id, receiver);
    return NearPromise.new(receiver)
      .functionCall(
        "nft_on_transfer",
        JSON.stringify({ sender_id: sender, previous_owner_id: owner, token_id: id, msg }),
        0n,
        near.prepaidGas() - NFT_TRANSFER_CALL_GAS,
      )
      .then(
        NearPromise.new(near.currentAccountId()).functionCall(
          "nft_resolve_transfer",
          JSON.stringify({ previous_owner_id: owner, receiver_id: receiver, token_id: id }),
          0n,
          NFT_RESOLVE_GAS,
        ),
      );
  }

  /** Receiver side: asks for the token back when `msg` is "return-it". */
  @call({})
  nft_on_transfer({
    token_id,
    msg,
  }: {
    sender_id: string;
    previous_owner_id: string;
    token_id: string;
    msg: string;
  }): boolean {
    this.history.push(`nft ${near.predecessorAccountId()} ${token_id} ${msg}`);
    return msg === "return-it";
  }

  @call({ privateFunction: true })
  nft_resolve_transfer({
    previous_owner_id,
    receiver_id,
    token_id,
  }: {
    previous_owner_id: string;
    receiver_id: string;
    token_id: string;
  }): boolean {
    const result = promiseValue();
    const mustReturn = result === null || JSON.parse(result) !== false;
    if (!mustReturn) return true;
    if (this.tokens.get(token_id) !== receiver_id) return true;
    this.tokens.set(token_id, previous_owner_id);
    near.log(`Return ${token_id} from ${receiver_id} to ${previous_owner_id}`);
    return false;
  }

  // Host functions: validator stakes and alt_bn128.

  @call({})
  stakes({ account_id }: { account_id: string }): { stake: string; total: string } {
    return {
      stake: near.validatorStake(text(account_id, "account_id")).toString(),
      total: near.validatorTotalStake().toString(),
    };
  }

  @view({})
  bn128_g1_sum({ input }: { input: string }): string {
    return bytesToHex(near.altBn128G1Sum(hexToBytes(input, "input")));
  }

  @view({})
  bn128_g1_multiexp({ input }: { input: string }): string {
    return bytesToHex(near.altBn128G1Multiexp(hexToBytes(input, "input")));
  }

  @view({})
  bn128_pairing_check({ input }: { input: string }): boolean {
    return near.altBn128PairingCheck(hexToBytes(input, "input"));
  }
}
