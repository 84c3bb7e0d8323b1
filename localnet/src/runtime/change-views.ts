/**
 * State changes as nearcore's StateChangeWithCauseView: { cause, type, change }. Only the public
 * columns (accounts, access keys, data, code) appear; the runtime's own columns are internal.
 */
import { publicKeyToString } from "./keys.ts";
import type { StoredAccessKey } from "./state-store.ts";
import { keys } from "./state-store.ts";
import type { CommittedChange } from "./state-update.ts";
import type { Account, StateChangeView } from "./types.ts";
import { accessKeyToView, accountToView } from "./views.ts";

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");

export function stateChangeViews(changes: CommittedChange[]): StateChangeView[] {
  const out: StateChangeView[] = [];
  for (const { cause, writes } of changes) {
    for (const w of writes) {
      const view = changeView(w.column, w.key, w.value);
      if (view !== null) out.push({ cause, ...view });
    }
  }
  return out;
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
      const publicKey = key.slice(accountId.length + 1);
      if (value === undefined) {
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
