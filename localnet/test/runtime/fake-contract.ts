/**
 * A VM stand-in that behaves like a tiny contract, charging gas the way NEAR's VM does for the
 * receipts it creates (send fees burnt; execution fees and attached gas used), so that balances
 * stay conserved. Methods: set, get, panic, call_other, on_result, transfer_to.
 */
import { runtimeConfig } from "../../src/config/runtime-config.ts";
import type { ReceiptDraft, RunFunctionCall, VMOutcome } from "../../src/vm/types.ts";

export const TGAS = 10n ** 12n;
const cfg = runtimeConfig.transaction_costs;
const receiptFee = BigInt(cfg.action_receipt_creation_config.send_not_sir);
const receiptExec = BigInt(cfg.action_receipt_creation_config.execution);
const fcSend = BigInt(cfg.action_creation_config.function_call_cost.send_not_sir);
const fcExec = BigInt(cfg.action_creation_config.function_call_cost.execution);
const fcByteSend = BigInt(cfg.action_creation_config.function_call_cost_per_byte.send_not_sir);
const fcByteExec = BigInt(cfg.action_creation_config.function_call_cost_per_byte.execution);
const transferSend = BigInt(cfg.action_creation_config.transfer_cost.send_not_sir);
const transferExec = BigInt(cfg.action_creation_config.transfer_cost.execution);

const enc = new TextEncoder();
const dec = new TextDecoder();

export const CALL_BURN = 3n * TGAS;

export const fakeContract: RunFunctionCall = ({ methodName, context, ext }) => {
  const out: VMOutcome = {
    balance: context.accountBalance,
    storageUsage: context.storageUsage,
    returnData: { kind: "none" },
    burntGas: CALL_BURN,
    usedGas: CALL_BURN,
    logs: [],
    profile: [{ costCategory: "WASM_HOST_COST", cost: "WASM_INSTRUCTION", gasUsed: CALL_BURN }],
    receipts: [],
    aborted: null,
  };
  const args = dec.decode(context.input);
  const functionCall = (
    receiverId: string,
    method: string,
    gas: bigint,
    inputDataIds: Uint8Array[],
  ): ReceiptDraft => {
    const bytes = BigInt(method.length);
    out.burntGas += receiptFee + fcSend + fcByteSend * bytes;
    out.usedGas +=
      receiptFee + fcSend + fcByteSend * bytes + receiptExec + fcExec + fcByteExec * bytes + gas;
    return {
      receiverId,
      actions: [
        {
          kind: "functionCall",
          methodName: method,
          args: new Uint8Array(),
          gas,
          deposit: 0n,
          gasWeight: 0n,
        },
      ],
      inputDataIds,
      outputDataReceivers: [],
    };
  };
  switch (methodName) {
    case "set": {
      const [key = "", value = ""] = args.split("=");
      const previous = ext.storageSet(enc.encode(key), enc.encode(value));
      out.storageUsage +=
        previous === null
          ? BigInt(key.length + value.length + 40)
          : BigInt(value.length - previous.length);
      out.logs.push(`set ${key}`);
      return out;
    }
    case "get": {
      const value = ext.storageGet(enc.encode(args));
      out.returnData = { kind: "value", data: value ?? enc.encode("none") };
      return out;
    }
    case "panic":
      out.logs.push("about to panic");
      ext.storageSet(enc.encode("panic"), enc.encode("written"));
      out.aborted = {
        view: { ExecutionError: "Smart contract panicked: boom" },
        debug: 'HostError(GuestPanic { panic_msg: "boom" })',
      };
      return out;
    case "call_other": {
      // args: "<account>:<method>" -> other.method().then(self.on_result())
      const [other = "", method = "get"] = args.split(":");
      const id = ext.generateDataId();
      const call = functionCall(other, method, 10n * TGAS, []);
      call.outputDataReceivers.push({ dataId: id, receiverId: context.currentAccountId });
      const callback = functionCall(context.currentAccountId, "on_result", 10n * TGAS, [id]);
      out.receipts.push(call, callback);
      out.returnData = { kind: "receiptIndex", index: 1 };
      return out;
    }
    case "on_result": {
      const result = context.promiseResults[0];
      const text = result?.kind === "successful" ? `ok:${dec.decode(result.data)}` : `failed`;
      out.logs.push(text);
      out.returnData = { kind: "value", data: enc.encode(text) };
      return out;
    }
    case "transfer_to": {
      const amount = 10n ** 24n;
      out.burntGas += receiptFee + transferSend;
      out.usedGas += receiptFee + transferSend + receiptExec + transferExec;
      out.balance -= amount;
      out.receipts.push({
        receiverId: args,
        actions: [{ kind: "transfer", deposit: amount }],
        inputDataIds: [],
        outputDataReceivers: [],
      });
      return out;
    }
    default:
      out.burntGas = 0n;
      out.usedGas = 0n;
      out.profile = [];
      out.aborted = {
        view: { MethodResolveError: "MethodNotFound" },
        debug: "MethodResolveError(MethodNotFound)",
      };
      return out;
  }
};
