/**
 * The chain store: blocks (one chunk each, shard 0), transactions, receipts and their outcomes,
 * indexed the ways RPC and the block stream read them.
 */
import type {
  CryptoHash,
  ExecutionOutcome,
  Receipt,
  SignedTransaction,
  StateChangeView,
} from "../runtime/types.ts";
import { hexKey } from "./encoding.ts";

export interface Chunk {
  hash: CryptoHash;
  transactions: SignedTransaction[];
  /** Receipts applied in this chunk that earlier chunks produced. */
  receipts: Receipt[];
  /** Receipts this chunk produced for later chunks. */
  outgoingReceipts: Receipt[];
  gasUsed: bigint;
  gasLimit: bigint;
  balanceBurnt: bigint;
  prevStateRoot: CryptoHash;
  outcomeRoot: CryptoHash;
  txRoot: CryptoHash;
  outgoingReceiptsRoot: CryptoHash;
}

export interface Block {
  height: bigint;
  hash: CryptoHash;
  prevHash: CryptoHash;
  prevHeight: bigint | null;
  /** Nanoseconds since the Unix epoch. */
  timestamp: bigint;
  gasPrice: bigint;
  totalSupply: bigint;
  epochId: CryptoHash;
  nextEpochId: CryptoHash;
  /** The VM's epoch_height: 1 for the first epoch. */
  epochHeight: bigint;
  epochStartHeight: bigint;
  randomValue: CryptoHash;
  stateRoot: CryptoHash;
  chunk: Chunk;
  transactionOutcomes: ExecutionOutcome[];
  receiptOutcomes: { receipt: Receipt; outcome: ExecutionOutcome }[];
  stateChanges: StateChangeView[];
}

export interface LocatedOutcome {
  outcome: ExecutionOutcome;
  block: Block;
}

export class ChainStore {
  readonly #blocks: Block[] = [];
  readonly #byHash = new Map<string, Block>();
  readonly #byHeight = new Map<bigint, Block>();
  readonly #indexByHeight = new Map<bigint, number>();
  readonly #transactions = new Map<string, { tx: SignedTransaction; block: Block }>();
  readonly #outcomes = new Map<string, LocatedOutcome>();
  readonly #receipts = new Map<string, Receipt>();
  readonly #chunks = new Map<string, Block>();
  /** Receipt id -> hash of the transaction whose execution produced it. */
  readonly #origins = new Map<string, CryptoHash>();

  add(block: Block): void {
    const head = this.#blocks.at(-1);
    if (head && block.height <= head.height) {
      throw new Error(`block height ${block.height} does not follow head ${head.height}`);
    }
    this.#indexByHeight.set(block.height, this.#blocks.length);
    this.#blocks.push(block);
    this.#byHash.set(hexKey(block.hash), block);
    this.#byHeight.set(block.height, block);
    this.#chunks.set(hexKey(block.chunk.hash), block);
    for (const tx of block.chunk.transactions) {
      this.#transactions.set(hexKey(tx.hash), { tx, block });
    }
    for (const outcome of block.transactionOutcomes) {
      this.#outcomes.set(hexKey(outcome.id), { outcome, block });
      for (const id of outcome.receiptIds) this.#origins.set(hexKey(id), outcome.id);
    }
    for (const { receipt, outcome } of block.receiptOutcomes) {
      this.#receipts.set(hexKey(receipt.receiptId), receipt);
      this.#outcomes.set(hexKey(outcome.id), { outcome, block });
      const origin = this.#origins.get(hexKey(receipt.receiptId));
      if (origin) {
        for (const id of outcome.receiptIds) this.#origins.set(hexKey(id), origin);
      }
    }
    for (const receipt of block.chunk.outgoingReceipts) {
      this.#receipts.set(hexKey(receipt.receiptId), receipt);
    }
  }

  get head(): Block {
    const head = this.#blocks.at(-1);
    if (!head) throw new Error("the chain has no genesis block");
    return head;
  }

  get genesis(): Block {
    const genesis = this.#blocks[0];
    if (!genesis) throw new Error("the chain has no genesis block");
    return genesis;
  }

  /** The block `depth` blocks behind the head (0 = head), or genesis when the chain is shorter. */
  behindHead(depth: number): Block {
    return this.#blocks[Math.max(0, this.#blocks.length - 1 - depth)] ?? this.head;
  }

  /** The block `depth` blocks before `block` (genesis when there are fewer). */
  ancestor(block: Block, depth: number): Block {
    const index = this.#indexByHeight.get(block.height) ?? 0;
    return this.#blocks[Math.max(0, index - depth)] ?? block;
  }

  blocks(): readonly Block[] {
    return this.#blocks;
  }

  byHeight(height: bigint): Block | undefined {
    return this.#byHeight.get(height);
  }

  byHash(hash: CryptoHash): Block | undefined {
    return this.#byHash.get(hexKey(hash));
  }

  byChunkHash(hash: CryptoHash): Block | undefined {
    return this.#chunks.get(hexKey(hash));
  }

  transaction(hash: CryptoHash): { tx: SignedTransaction; block: Block } | undefined {
    return this.#transactions.get(hexKey(hash));
  }

  outcome(id: CryptoHash): LocatedOutcome | undefined {
    return this.#outcomes.get(hexKey(id));
  }

  /** The transaction a receipt descends from, when it descends from one. */
  originOf(receiptId: CryptoHash): CryptoHash | undefined {
    return this.#origins.get(hexKey(receiptId));
  }

  receipt(id: CryptoHash): Receipt | undefined {
    return this.#receipts.get(hexKey(id));
  }
}
