/**
 * Fresh nonces for evidence. A provider asks for a challenge for a machine (signing) key, puts
 * REPORTDATA = sha256(keyset) || nonce in the TEE quote (the report_data view computes it), then
 * add_machine or submit_evidence consumes the challenge: evidence is accepted once per challenge,
 * within params.challenge_ttl_ns.
 */
import { near } from "near-sdk-js";
import { asciiBytes, concatBytes, toHex, u64LeBytes } from "../../common/src/encoding.ts";
import { fail } from "../../common/src/errors.ts";
import { emitEvent } from "../../common/src/events.ts";
import type { Challenge } from "../../common/src/registry-types.ts";
import { StorageMeter } from "../../common/src/storage-meter.ts";
import { readRecord, removeRecord, writeRecord } from "../../common/src/store.ts";
import { requireAccountId, requireObject, requireOnlyKeys } from "../../common/src/validate.ts";
import { challengeKey } from "./keys.ts";
import { KEYSET_FIELDS, parseKeyset } from "./keyset.ts";
import { parseMachineKey } from "./machine-key.ts";
import { requireCallerProvider } from "./providers.ts";
import { reportDataHex } from "./report-data.ts";
import type { RegistryState } from "./state.ts";

export function requestChallenge(state: RegistryState, value: unknown): Challenge {
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", ["machine_public_key"]);
  const key = parseMachineKey(args.machine_public_key, "machine_public_key");
  const provider = requireCallerProvider(["active", "paused"], "request_challenge");
  const meter = new StorageMeter();
  const nonce = near.sha256(
    concatBytes(
      near.randomSeed(),
      u64LeBytes(near.blockHeight()),
      asciiBytes(provider.account_id),
      key.bytes,
    ),
  );
  const challenge: Challenge = {
    provider: provider.account_id,
    machine_public_key: key.text,
    nonce: toHex(nonce),
    expires_at: (near.blockTimestamp() + BigInt(state.params.challenge_ttl_ns)).toString(),
  };
  writeRecord(challengeKey(provider.account_id, key.text), challenge);
  meter.settle();
  emitEvent({ event: "challenge_issued", data: challenge });
  return challenge;
}

/** Removes and returns the live challenge for (provider, key); an expired or missing one fails. */
export function consumeChallenge(provider: string, machineKey: string): Challenge {
  const key = challengeKey(provider, machineKey);
  const challenge = readRecord<Challenge>(key);
  if (challenge === null) {
    fail(`no open challenge for ${machineKey} from ${provider}: call request_challenge first`);
  }
  const now = near.blockTimestamp();
  if (now >= BigInt(challenge.expires_at)) {
    fail(`the challenge for ${machineKey} expired at ${challenge.expires_at} (now ${now})`);
  }
  removeRecord(key);
  return challenge;
}

/**
 * View: the 64 bytes (hex) the quote's REPORTDATA must hold for the open challenge of
 * (provider, machine_public_key), attesting the keyset of machine_public_key, encryption_key and
 * models.
 */
export function viewReportData(value: unknown): { keyset_sha256: string; report_data: string } {
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", ["provider", ...KEYSET_FIELDS]);
  const provider = requireAccountId(args.provider, "provider");
  const keyset = parseKeyset(args, provider);
  const challenge = readRecord<Challenge>(challengeKey(provider, keyset.machine_public_key));
  if (challenge === null) {
    fail(`no open challenge for ${keyset.machine_public_key} from ${provider}`);
  }
  return {
    keyset_sha256: keyset.keyset_sha256,
    report_data: reportDataHex(keyset.keyset_sha256, challenge.nonce),
  };
}
