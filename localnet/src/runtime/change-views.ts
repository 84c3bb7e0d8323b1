/**
 * State changes as nearcore's StateChangeWithCauseView: { cause, type, change }. Only the public
 * columns (accounts, access keys, data, code) appear; the runtime's own columns are internal.
 */
import { publicKeyToString } from "./keys.ts";
import type { StoredAccessKey } from "./state-store.ts";
import { keys } from "./state-store.ts";
import type { CommittedChange, StateChangeCause } from "./state-update.ts";
import type { Account, StateChangeView } from "./types.ts";
import { accessKeyToView, accountToView, hashToString } from "./views.ts";

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");

export function stateChangeViews(changes: CommittedChange[]): StateChangeView[] {
  const out: StateChangeView[] = [];
  for (const { cause, writes } of changes) {
    let causeView: Record<string, unknown> | null = null;
    for (const w of writes) {
      const view = changeView(w.column, w.key, w.value);
      if (view === null) continue;
      causeView ??= causeToView(cause);
      out.push({ cause: causeView, ...view });
    }
  }
  return out;
}

/** { type: "receipt_processing", receipt_hash } and the like, hashes in base58. */
function causeToView(cause: StateChangeCause): Record<string, unknown> {
  if (cause.txHash !== undefined) return { type: cause.type, tx_hash: hashToString(cause.txHash) };
  if (cause.receiptHash !== undefined) {
    return { type: cause.type, receipt_hash: hashToString(cause.receiptHash) };
  }
  return { type: cause.type };
}

function changeView(
  column: string,
  key: string,
  value: unknown,
): { type: string; change: Record<string, unknown> } | null {
  const accountId = key.includes(" ") ? key.slice(0, key.indexOf(" ")) : key;
  switch (column) {
    case "account":
      if (value === undefined)
        return { type: "account_deletion", change: { account_id: accountId } };
      return {
        type: "account_update",
        change: { account_id: accountId, ...accountToView(value as Account) },
      };
    case "accessKey": {
      if (value === undefined) {
        const publicKey = publicKeyToString(keys.accessKeyPublicKey(key));
        return {
          type: "access_key_deletion",
          change: { account_id: accountId, public_key: publicKey },
        };
      }
      const stored = value as StoredAccessKey;
      return {
        type: "access_key_update",
        change: {
          account_id: accountId,
          public_key: publicKeyToString(stored.publicKey),
          access_key: accessKeyToView(stored.accessKey),
        },
      };
    }
    case "data": {
      const keyBase64 = b64(keys.dataKeyBytes(key));
      if (value === undefined)
        return { type: "data_deletion", change: { account_id: accountId, key_base64: keyBase64 } };
      return {
        type: "data_update",
        change: {
          account_id: accountId,
          key_base64: keyBase64,
          value_base64: b64(value as Uint8Array),
        },
      };
    }
    case "code":
      if (value === undefined)
        return { type: "contract_code_deletion", change: { account_id: accountId } };
      return {
        type: "contract_code_update",
        change: { account_id: accountId, code_base64: b64(value as Uint8Array) },
      };
    default:
      return null;
  }
}
