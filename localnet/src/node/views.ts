/**
 * nearcore's JSON views (core/primitives/src/views.rs) of blocks, chunks, transactions, receipts
 * and outcomes. u64 values are written as exact JSON numbers, u128 values as decimal strings.
 */
import type {
  AccessKey,
  AccessKeyPermission,
  Action,
  ExecutionOutcome,
  ExecutionStatus,
  Receipt,
  SignedTransaction,
} from "../runtime/types.ts";
import type { Block } from "./chain.ts";
import {
  publicKeyToString,
  sha256,
  signatureToString,
  toBase58,
  toBase64,
  u64,
} from "./encoding.ts";

export type JsonObject = Record<string, unknown>;

/** The block producer signature is not verifiable by anyone; it is a fixed placeholder. */
const PLACEHOLDER_SIGNATURE = `ed25519:${toBase58(new Uint8Array(64))}`;

function permissionView(permission: AccessKeyPermission): unknown {
  if (permission.kind === "fullAccess") return "FullAccess";
  return {
    FunctionCall: {
      allowance: permission.allowance === null ? null : permission.allowance.toString(),
      receiver_id: permission.receiverId,
      method_names: permission.methodNames,
    },
  };
}

export function accessKeyView(key: AccessKey): JsonObject {
  return { nonce: u64(key.nonce), permission: permissionView(key.permission) };
}

export function actionView(action: Action): unknown {
  switch (action.kind) {
    case "createAccount":
      return "CreateAccount";
    case "deployContract":
      // nearcore shows the hash of the code, not the code.
      return { DeployContract: { code: toBase64(sha256(action.code)) } };
    case "functionCall":
      return {
        FunctionCall: {
          method_name: action.methodName,
          args: toBase64(action.args),
          gas: u64(action.gas),
          deposit: action.deposit.toString(),
        },
      };
    case "transfer":
      return { Transfer: { deposit: action.deposit.toString() } };
    case "stake":
      return {
        Stake: { stake: action.stake.toString(), public_key: publicKeyToString(action.publicKey) },
      };
    case "addKey":
      return {
        AddKey: {
          public_key: publicKeyToString(action.publicKey),
          access_key: { nonce: u64(action.nonce), permission: permissionView(action.permission) },
        },
      };
    case "deleteKey":
      return { DeleteKey: { public_key: publicKeyToString(action.publicKey) } };
    case "deleteAccount":
      return { DeleteAccount: { beneficiary_id: action.beneficiaryId } };
    case "delegate": {
      const inner = action.delegateAction;
      return {
        Delegate: {
          delegate_action: {
            sender_id: inner.senderId,
            receiver_id: inner.receiverId,
            actions: inner.actions.map(actionView),
            nonce: u64(inner.nonce),
            max_block_height: u64(inner.maxBlockHeight),
            public_key: publicKeyToString(inner.publicKey),
          },
          signature: signatureToString(action.signature),
        },
      };
    }
  }
}

export function transactionView(signed: SignedTransaction): JsonObject {
  const tx = signed.transaction;
  return {
    signer_id: tx.signerId,
    public_key: publicKeyToString(tx.publicKey),
    nonce: u64(tx.nonce),
    receiver_id: tx.receiverId,
    actions: tx.actions.map(actionView),
    priority_fee: 0,
    signature: signatureToString(signed.signature),
    hash: toBase58(signed.hash),
  };
}

export function receiptView(receipt: Receipt): JsonObject {
  const body = receipt.body;
  const inner =
    body.kind === "action"
      ? {
          Action: {
            signer_id: body.signerId,
            signer_public_key: publicKeyToString(body.signerPublicKey),
            gas_price: body.gasPrice.toString(),
            output_data_receivers: body.outputDataReceivers.map((r) => ({
              data_id: toBase58(r.dataId),
              receiver_id: r.receiverId,
            })),
            input_data_ids: body.inputDataIds.map(toBase58),
            actions: body.actions.map(actionView),
            is_promise_yield: false,
          },
        }
      : {
          Data: {
            data_id: toBase58(body.dataId),
            data: body.data === null ? null : toBase64(body.data),
            is_promise_resume: false,
          },
        };
  return {
    predecessor_id: receipt.predecessorId,
    receiver_id: receipt.receiverId,
    receipt_id: toBase58(receipt.receiptId),
    receipt: inner,
    priority: 0,
  };
}

export function executionStatusView(status: ExecutionStatus): unknown {
  switch (status.kind) {
    case "successValue":
      return { SuccessValue: toBase64(status.value) };
    case "successReceiptId":
      return { SuccessReceiptId: toBase58(status.receiptId) };
    case "failure":
      return { Failure: status.error };
  }
}

/** ExecutionOutcomeWithIdView; transactions carry no gas profile (metadata version 1). */
export function outcomeView(
  outcome: ExecutionOutcome,
  block: Block,
  isTransaction: boolean,
): JsonObject {
  return {
    proof: [],
    block_hash: toBase58(block.hash),
    id: toBase58(outcome.id),
    outcome: {
      logs: outcome.logs,
      receipt_ids: outcome.receiptIds.map(toBase58),
      gas_burnt: u64(outcome.gasBurnt),
      tokens_burnt: outcome.tokensBurnt.toString(),
      executor_id: outcome.executorId,
      status: executionStatusView(outcome.status),
      metadata: isTransaction
        ? { version: 1, gas_profile: null }
        : {
            version: 3,
            gas_profile: outcome.profile.map((entry) => ({
              cost_category: entry.costCategory,
              cost: entry.cost,
              gas_used: entry.gasUsed.toString(),
            })),
          },
    },
  };
}

export function chunkHeaderView(block: Block): JsonObject {
  const chunk = block.chunk;
  return {
    chunk_hash: toBase58(chunk.hash),
    prev_block_hash: toBase58(block.prevHash),
    outcome_root: toBase58(chunk.outcomeRoot),
    prev_state_root: toBase58(chunk.prevStateRoot),
    encoded_merkle_root: toBase58(chunk.hash),
    encoded_length: 8,
    height_created: u64(block.height),
    height_included: u64(block.height),
    shard_id: 0,
    gas_used: u64(chunk.gasUsed),
    gas_limit: u64(chunk.gasLimit),
    rent_paid: "0",
    validator_reward: "0",
    balance_burnt: chunk.balanceBurnt.toString(),
    outgoing_receipts_root: toBase58(chunk.outgoingReceiptsRoot),
    tx_root: toBase58(chunk.txRoot),
    validator_proposals: [],
    congestion_info: {
      delayed_receipts_gas: "0",
      buffered_receipts_gas: "0",
      receipt_bytes: 0,
      allowed_shard: 0,
    },
    bandwidth_requests: null,
    signature: PLACEHOLDER_SIGNATURE,
  };
}

export interface FinalityRefs {
  lastFinal: Block;
  lastDsFinal: Block;
}

export function blockHeaderView(
  block: Block,
  finality: FinalityRefs,
  protocolVersion: number,
): JsonObject {
  const chunk = block.chunk;
  return {
    height: u64(block.height),
    prev_height: block.prevHeight === null ? null : u64(block.prevHeight),
    epoch_id: toBase58(block.epochId),
    next_epoch_id: toBase58(block.nextEpochId),
    hash: toBase58(block.hash),
    prev_hash: toBase58(block.prevHash),
    prev_state_root: toBase58(chunk.prevStateRoot),
    block_body_hash: toBase58(sha256(chunk.hash)),
    chunk_receipts_root: toBase58(chunk.outgoingReceiptsRoot),
    chunk_headers_root: toBase58(chunk.hash),
    chunk_tx_root: toBase58(chunk.txRoot),
    outcome_root: toBase58(chunk.outcomeRoot),
    chunks_included: 1,
    challenges_root: toBase58(new Uint8Array(32)),
    timestamp: u64(block.timestamp),
    timestamp_nanosec: block.timestamp.toString(),
    random_value: toBase58(block.randomValue),
    validator_proposals: [],
    chunk_mask: [true],
    gas_price: block.gasPrice.toString(),
    block_ordinal: u64(block.height),
    rent_paid: "0",
    validator_reward: "0",
    total_supply: block.totalSupply.toString(),
    challenges_result: [],
    last_final_block: toBase58(finality.lastFinal.hash),
    last_ds_final_block: toBase58(finality.lastDsFinal.hash),
    next_bp_hash: toBase58(sha256(block.nextEpochId)),
    block_merkle_root: toBase58(sha256(block.hash)),
    epoch_sync_data_hash: null,
    approvals: block.prevHeight === null ? [] : [PLACEHOLDER_SIGNATURE],
    signature: PLACEHOLDER_SIGNATURE,
    latest_protocol_version: protocolVersion,
    chunk_endorsements: [[1]],
  };
}
