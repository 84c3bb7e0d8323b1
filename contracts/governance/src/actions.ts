/** Parsing and checking of proposal actions, at proposal time (so voters see exactly what runs). */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type {
  BlobInfo,
  GovernanceConfig,
  ProposalAction,
} from "../../common/src/governance-types.ts";
import { parseU128 } from "../../common/src/u128.ts";
import {
  requireAccountId,
  requireArray,
  requireEnum,
  requireInt,
  requireMatch,
  requireObject,
  requireOnlyKeys,
} from "../../common/src/validate.ts";
import { parseCodeHash, requireBlob } from "./blobs.ts";
import { parseConfigPatch } from "./config.ts";
import { LIMITS } from "./state.ts";

const KINDS = ["upgrade", "upgrade_self", "function_call", "transfer", "config"] as const;
const METHOD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Callbacks and upgrade entry points of governed contracts are not for function_call actions. */
const RESERVED_METHODS = ["upgrade", "migrate"];

function requireGoverned(config: GovernanceConfig, value: unknown, field: string): string {
  const target = requireAccountId(value, field);
  if (!config.governed.includes(target)) {
    fail(
      `${field}: ${target} is not a governed contract (governed: ${config.governed.join(", ")})`,
    );
  }
  return target;
}

/**
 * The blob an upgrade action names, which only its payer may propose: anyone else could keep it
 * named by live proposals (re-proposing it, even with a threshold of 0) and so keep its payer
 * from ever removing it.
 */
function requireOwnBlob(value: unknown, field: string, proposer: string): BlobInfo {
  const blob = requireBlob(parseCodeHash(value, field), field);
  if (blob.payer !== proposer) {
    fail(`${field}: only the blob's payer (${blob.payer}) may propose it; store_blob it yourself`);
  }
  return blob;
}

function parseAction(
  config: GovernanceConfig,
  value: unknown,
  field: string,
  proposer: string,
): ProposalAction {
  const given = requireObject(value, field);
  const kind = requireEnum(given.kind, `${field}.kind`, KINDS);
  switch (kind) {
    case "upgrade": {
      requireOnlyKeys(given, field, ["kind", "target", "code_sha256"]);
      const target = requireGoverned(config, given.target, `${field}.target`);
      const blob = requireOwnBlob(given.code_sha256, `${field}.code_sha256`, proposer);
      return { kind, target, code_sha256: blob.code_sha256, code_size: blob.size };
    }
    case "upgrade_self": {
      requireOnlyKeys(given, field, ["kind", "code_sha256"]);
      const blob = requireOwnBlob(given.code_sha256, `${field}.code_sha256`, proposer);
      return { kind, code_sha256: blob.code_sha256, code_size: blob.size };
    }
    case "function_call": {
      requireOnlyKeys(given, field, ["kind", "target", "method", "args", "deposit", "gas_tgas"]);
      const target = requireGoverned(config, given.target, `${field}.target`);
      const method = requireMatch(
        given.method,
        `${field}.method`,
        METHOD_NAME,
        256,
        "a method name",
      );
      if (RESERVED_METHODS.includes(method)) {
        fail(`${field}.method: ${method} is reserved: use an upgrade action`);
      }
      const args = given.args === undefined ? {} : given.args;
      const argsBytes = JSON.stringify(args).length;
      if (argsBytes > LIMITS.functionArgsBytes) {
        fail(`${field}.args: ${argsBytes} bytes of JSON, more than ${LIMITS.functionArgsBytes}`);
      }
      const deposit =
        given.deposit === undefined ? "0" : parseU128(given.deposit, `${field}.deposit`).toString();
      const gas =
        given.gas_tgas === undefined
          ? 50
          : requireInt(given.gas_tgas, `${field}.gas_tgas`, 1, LIMITS.maxFunctionGasTgas);
      return { kind, target, method, args, deposit, gas_tgas: gas };
    }
    case "transfer": {
      requireOnlyKeys(given, field, ["kind", "receiver", "amount", "token"]);
      const receiver = requireAccountId(given.receiver, `${field}.receiver`);
      const amount = parseU128(given.amount, `${field}.amount`);
      if (amount === 0n) {
        fail(`${field}.amount: must be greater than 0`);
      }
      const token =
        given.token === undefined || given.token === null
          ? null
          : requireAccountId(given.token, `${field}.token`);
      if (receiver === near.currentAccountId()) {
        fail(`${field}.receiver: the treasury cannot pay itself`);
      }
      return { kind, receiver, amount: amount.toString(), token };
    }
    case "config": {
      requireOnlyKeys(given, field, ["kind", "config"]);
      return { kind, config: parseConfigPatch(given.config, `${field}.config`) };
    }
  }
}

export function parseActions(
  config: GovernanceConfig,
  value: unknown,
  proposer: string,
): ProposalAction[] {
  const list = requireArray(value, "actions", 1, LIMITS.maxActions);
  return list.map((item, i) => parseAction(config, item, `actions[${i}]`, proposer));
}
