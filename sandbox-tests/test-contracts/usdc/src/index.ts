/**
 * A USDC-like test token: NEP-141 (transfers, transfer-and-call), NEP-145 storage registration
 * (a fixed fee per account), NEP-148 metadata with 6 decimals, and an owner-only `mint`. Only for
 * tests: it is what the escrow meets in a real NEP-141 token, no more.
 */
import { call, initialize, NearBindgen, near, view } from "near-sdk-js";
import { fail } from "../../../../contracts/common/src/errors.ts";
import { parseU128 } from "../../../../contracts/common/src/u128.ts";
import {
  requireAccountId,
  requireBool,
  requireObject,
  requireOnlyKeys,
  requireString,
} from "../../../../contracts/common/src/validate.ts";

/** Bytes of one account's balance record, rounded up: the registration fee pays for them. */
const ACCOUNT_STORAGE_BYTES = 125n;
const ONE_YOCTO = 1n;
const RESOLVE_GAS = 30_000_000_000_000n;
/** Gas this call still burns after scheduling its promises. */
const FINISH_GAS = 5_000_000_000_000n;
/** ft_transfer_call needs at least this much gas left for ft_on_transfer and the resolve. */
const MIN_TRANSFER_CALL_GAS = 50_000_000_000_000n;
const MAX_ARGS_BYTES = 4096;

type Args = Record<string, unknown>;

const balanceKey = (account: string): string => `a:${account}`;

function argsOf(value: unknown, keys: readonly string[]): Args {
  if (near.inputRaw().length > MAX_ARGS_BYTES) {
    fail(`arguments are larger than ${MAX_ARGS_BYTES} bytes`);
  }
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", keys);
  return args;
}

function registrationFee(): bigint {
  return ACCOUNT_STORAGE_BYTES * near.storageByteCost();
}

function balanceOf(account: string): bigint | null {
  const raw = near.storageRead(balanceKey(account));
  return raw === null ? null : BigInt(raw);
}

function requireBalance(account: string): bigint {
  return balanceOf(account) ?? fail(`account ${account} is not registered with this token`);
}

function setBalance(account: string, amount: bigint): void {
  near.storageWrite(balanceKey(account), amount.toString());
}

function assertOneYocto(): void {
  if (near.attachedDeposit() !== ONE_YOCTO) {
    fail("requires an attached deposit of exactly 1 yoctoNEAR");
  }
}

function emitNep141(event: string, data: Record<string, unknown>): void {
  near.log(
    `EVENT_JSON:${JSON.stringify({ standard: "nep141", version: "1.0.0", event, data: [data] })}`,
  );
}

function memoOf(args: Args): string | undefined {
  return args.memo === undefined || args.memo === null
    ? undefined
    : requireString(args.memo, "memo", 0, 256);
}

function moveTokens(sender: string, receiver: string, amount: bigint, memo?: string): void {
  if (sender === receiver) {
    fail("sender and receiver must differ");
  }
  if (amount === 0n) {
    fail("amount: must be greater than 0");
  }
  const from = requireBalance(sender);
  const to = requireBalance(receiver);
  if (from < amount) {
    fail(`${sender} has ${from}, less than the ${amount} to transfer`);
  }
  setBalance(sender, from - amount);
  setBalance(receiver, to + amount);
  const data: Record<string, unknown> = {
    old_owner_id: sender,
    new_owner_id: receiver,
    amount: amount.toString(),
  };
  if (memo !== undefined) {
    data.memo = memo;
  }
  emitNep141("ft_transfer", data);
}

function storageBalance(account: string): { total: string; available: string } | null {
  return balanceOf(account) === null
    ? null
    : { total: registrationFee().toString(), available: "0" };
}

function sendNear(account: string, amount: bigint): void {
  if (amount > 0n) {
    near.promiseBatchActionTransfer(near.promiseBatchCreate(account), amount);
  }
}

@NearBindgen({ requireInit: true })
// biome-ignore lint/correctness/noUnusedVariables: near-sdk-js exports its methods as the contract's
class UsdcToken {
  owner = "";
  total_supply = "0";

  @initialize({})
  init(value: unknown): void {
    const args = argsOf(value, ["owner_id", "total_supply"]);
    this.owner = requireAccountId(args.owner_id, "owner_id");
    const supply = parseU128(args.total_supply, "total_supply");
    this.total_supply = supply.toString();
    setBalance(this.owner, supply);
    emitNep141("ft_mint", { owner_id: this.owner, amount: this.total_supply });
  }

  @call({ payableFunction: true })
  mint(value: unknown): string {
    const args = argsOf(value, ["account_id", "amount"]);
    if (near.predecessorAccountId() !== this.owner) {
      fail(`only the owner (${this.owner}) may mint`);
    }
    const account = requireAccountId(args.account_id, "account_id");
    const amount = parseU128(args.amount, "amount");
    const balance = requireBalance(account) + amount;
    this.total_supply = (BigInt(this.total_supply) + amount).toString();
    setBalance(account, balance);
    emitNep141("ft_mint", { owner_id: account, amount: amount.toString() });
    return balance.toString();
  }

  // NEP-141

  @call({ payableFunction: true })
  ft_transfer(value: unknown): void {
    const args = argsOf(value, ["receiver_id", "amount", "memo"]);
    assertOneYocto();
    moveTokens(
      near.predecessorAccountId(),
      requireAccountId(args.receiver_id, "receiver_id"),
      parseU128(args.amount, "amount"),
      memoOf(args),
    );
  }

  @call({ payableFunction: true })
  ft_transfer_call(value: unknown): void {
    const args = argsOf(value, ["receiver_id", "amount", "memo", "msg"]);
    assertOneYocto();
    if (near.prepaidGas() < MIN_TRANSFER_CALL_GAS) {
      fail(`ft_transfer_call needs at least ${MIN_TRANSFER_CALL_GAS} gas`);
    }
    const sender = near.predecessorAccountId();
    const receiver = requireAccountId(args.receiver_id, "receiver_id");
    const amount = parseU128(args.amount, "amount");
    const msg = requireString(args.msg, "msg", 0, MAX_ARGS_BYTES);
    moveTokens(sender, receiver, amount, memoOf(args));
    // The receiver gets what is left after the resolve's share and this call's own finish. (A
    // static amount: near-sdk-js 2.0's function_call_weight glue garbles Uint8Array arguments.)
    const receiverGas = near.prepaidGas() - near.usedGas() - RESOLVE_GAS - FINISH_GAS;
    const onTransfer = near.promiseCreate(
      receiver,
      "ft_on_transfer",
      JSON.stringify({ sender_id: sender, amount: amount.toString(), msg }),
      0n,
      receiverGas,
    );
    const resolve = near.promiseThen(
      onTransfer,
      near.currentAccountId(),
      "ft_resolve_transfer",
      JSON.stringify({ sender_id: sender, receiver_id: receiver, amount: amount.toString() }),
      0n,
      RESOLVE_GAS,
    );
    near.promiseReturn(resolve);
  }

  /** Refunds what the receiver reports unused (all of it when ft_on_transfer failed); returns what was used. */
  @call({ privateFunction: true })
  ft_resolve_transfer(value: unknown): string {
    const args = argsOf(value, ["sender_id", "receiver_id", "amount"]);
    const sender = requireAccountId(args.sender_id, "sender_id");
    const receiver = requireAccountId(args.receiver_id, "receiver_id");
    const amount = parseU128(args.amount, "amount");
    let unused = amount;
    try {
      const reported = JSON.parse(near.promiseResult(0)) as unknown;
      if (typeof reported === "string" && /^(0|[1-9][0-9]*)$/.test(reported)) {
        unused = BigInt(reported) < amount ? BigInt(reported) : amount;
      }
    } catch {
      // The receiver failed or answered something else: refund everything.
    }
    if (unused === 0n) {
      return amount.toString();
    }
    const receiverBalance = balanceOf(receiver) ?? 0n;
    const refund = unused < receiverBalance ? unused : receiverBalance;
    const senderBalance = balanceOf(sender);
    if (refund > 0n && senderBalance !== null) {
      setBalance(receiver, receiverBalance - refund);
      setBalance(sender, senderBalance + refund);
      emitNep141("ft_transfer", {
        old_owner_id: receiver,
        new_owner_id: sender,
        amount: refund.toString(),
        memo: "refund",
      });
      return (amount - refund).toString();
    }
    return amount.toString();
  }

  @view({})
  ft_total_supply(): string {
    return this.total_supply;
  }

  @view({})
  ft_balance_of(value: unknown): string {
    const args = argsOf(value, ["account_id"]);
    return (balanceOf(requireAccountId(args.account_id, "account_id")) ?? 0n).toString();
  }

  @view({})
  ft_metadata(): Record<string, unknown> {
    return {
      spec: "ft-1.0.0",
      name: "USD Coin (test)",
      symbol: "USDC",
      icon: null,
      reference: null,
      reference_hash: null,
      decimals: 6,
    };
  }

  // NEP-145: a fixed registration fee, nothing more to deposit or withdraw.

  @call({ payableFunction: true })
  storage_deposit(value: unknown): { total: string; available: string } {
    const args = argsOf(value, ["account_id", "registration_only"]);
    const caller = near.predecessorAccountId();
    const account =
      args.account_id === undefined || args.account_id === null
        ? caller
        : requireAccountId(args.account_id, "account_id");
    if (args.registration_only !== undefined && args.registration_only !== null) {
      requireBool(args.registration_only, "registration_only");
    }
    const attached = near.attachedDeposit();
    const fee = registrationFee();
    if (balanceOf(account) !== null) {
      sendNear(caller, attached);
    } else {
      if (attached < fee) {
        fail(`attached deposit ${attached} is less than the registration fee ${fee}`);
      }
      setBalance(account, 0n);
      sendNear(caller, attached - fee);
    }
    return storageBalance(account) ?? fail("internal: registration failed");
  }

  @view({})
  storage_balance_of(value: unknown): { total: string; available: string } | null {
    const args = argsOf(value, ["account_id"]);
    return storageBalance(requireAccountId(args.account_id, "account_id"));
  }

  @view({})
  storage_balance_bounds(): { min: string; max: string } {
    const fee = registrationFee().toString();
    return { min: fee, max: fee };
  }
}
