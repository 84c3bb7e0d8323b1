/**
 * A single-validator NEAR chain: a transaction pool, block production (at once when there is work,
 * otherwise every `blockIntervalMs`), the chain store and the state, one shard.
 */
import { EventEmitter } from "node:events";
import { type RuntimeConfig, runtimeConfig } from "../config/runtime-config.ts";
import type {
  ApplyContext,
  InvalidTxError,
  Receipt,
  SignedTransaction,
  StateReader,
  StateRecordView,
  StateStore,
} from "../runtime/types.ts";
import { type Block, ChainStore, type Chunk } from "./chain.ts";
import { bytesEqual, hexKey, sha256, toBase58, ZERO_HASH } from "./encoding.ts";
import type { Genesis } from "./genesis.ts";
import { inNonceOrder } from "./nonce-order.ts";
import type { ChainPersistence, PersistedBlock } from "./persisted-chain.ts";
import type { RuntimeApi } from "./runtime-api.ts";
import { applyWrites, sealedWrites } from "./state-writes.ts";

const MS = 1_000_000n;
/** Simulated time per height skipped by sandbox_fast_forward (nearcore's block production delay). */
const FAST_FORWARD_NS_PER_BLOCK = 1_000n * MS;
/** Blocks produced after work so that it becomes final (final = head - 2). */
const FINALITY_DEPTH = 2;

export interface NodeOptions {
  genesis: Genesis;
  runtime: RuntimeApi;
  /** Empty blocks are produced at this interval when there is no work; 0 disables them. */
  blockIntervalMs?: number;
  config?: RuntimeConfig;
  /** Where the chain survives restarts: its blocks are resumed, every new block is appended. */
  persistence?: ChainPersistence;
}

/** A transaction rejected before inclusion, carrying nearcore's InvalidTxError view. */
export class TransactionRejected extends Error {
  readonly view: InvalidTxError["view"];
  constructor(view: InvalidTxError["view"]) {
    super(`invalid transaction: ${JSON.stringify(view)}`);
    this.view = view;
  }
}

function isInvalidTxError(error: unknown): error is InvalidTxError {
  const view = (error as Partial<InvalidTxError>).view;
  return (
    error instanceof Error &&
    (typeof view === "string" || (typeof view === "object" && view !== null))
  );
}

function concatHashes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function u64Bytes(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, true);
  return out;
}

export class LocalNode {
  readonly genesis: Genesis;
  readonly chain = new ChainStore();
  readonly state: StateStore;
  readonly config: RuntimeConfig;
  readonly events = new EventEmitter();
  /** The validators and their stakes, from genesis: localnet's validator set never changes. */
  readonly validatorStakes: ReadonlyMap<string, bigint>;
  readonly #runtime: RuntimeApi;
  readonly #blockIntervalMs: number;
  readonly #epochLength: bigint;
  readonly #minGasPrice: bigint;
  readonly #gasLimit: bigint;
  readonly #persistence: ChainPersistence | null;
  #pool: SignedTransaction[] = [];
  readonly #poolHashes = new Set<string>();
  #pendingReceipts: Receipt[] = [];
  /** Added to the wall clock: sandbox_fast_forward moves time ahead. */
  #clockOffsetNs = 0n;
  #scheduled = false;
  /** Empty blocks still to produce so that the last work becomes final. */
  #settleLeft = 0;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: NodeOptions) {
    this.genesis = options.genesis;
    this.#runtime = options.runtime;
    this.config = options.config ?? runtimeConfig;
    this.#blockIntervalMs = options.blockIntervalMs ?? 1000;
    this.#epochLength = BigInt(options.genesis.config.epoch_length);
    this.#minGasPrice = BigInt(options.genesis.config.min_gas_price);
    this.#gasLimit = BigInt(options.genesis.config.gas_limit);
    const validators = options.genesis.config.validators as {
      account_id: string;
      amount: string;
    }[];
    this.validatorStakes = new Map(validators.map((v) => [v.account_id, BigInt(v.amount)]));
    this.events.setMaxListeners(0);
    this.state = this.#runtime.createStateStore();
    this.state.applyRecords(options.genesis.records);
    const height = BigInt(options.genesis.config.genesis_height);
    this.state.commitBlock(height);
    this.chain.add(this.#genesisBlock(height));
    this.#persistence = options.persistence ?? null;
    if (this.#persistence) {
      try {
        this.#resume(this.#persistence.blocks);
      } catch (error) {
        this.#persistence.close();
        throw error;
      }
    }
  }

  get runtime(): RuntimeApi {
    return this.#runtime;
  }

  /** Starts producing empty blocks every blockIntervalMs, and finishes work a resumed chain left. */
  start(): void {
    this.#armTimer();
    if (this.hasWork || this.#settleLeft > 0) this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#persistence?.close();
    this.events.emit("stopped");
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Blocks by finality: optimistic is the head, near-final one behind, final two behind. */
  blockAt(finality: "optimistic" | "near-final" | "final"): Block {
    if (finality === "optimistic") return this.chain.head;
    return this.chain.behindHead(finality === "near-final" ? 1 : FINALITY_DEPTH);
  }

  isFinal(block: Block): boolean {
    return block.height <= this.blockAt("final").height;
  }

  /** The state right after `block`, or null when that version is no longer kept. */
  stateAt(block: Block): StateReader | null {
    if (block.height === this.chain.head.height) return this.state;
    return this.state.at(block.height);
  }

  isPending(hash: Uint8Array): boolean {
    return this.#poolHashes.has(hexKey(hash));
  }

  /**
   * Checks a transaction against the head state and adds it to the pool. Throws
   * TransactionRejected with nearcore's InvalidTxError view when it cannot be included.
   */
  submit(tx: SignedTransaction): void {
    if (this.#stopped) throw new Error("the node is stopped");
    const key = hexKey(tx.hash);
    if (this.#poolHashes.has(key) || this.chain.transaction(tx.hash)) return;
    const head = this.chain.head;
    const validity = BigInt(this.genesis.config.transaction_validity_period);
    try {
      this.#runtime.validateTransaction(this.state, tx, {
        blockHeight: head.height + 1n,
        gasPrice: this.#minGasPrice,
        config: this.config,
        isBlockHashValid: (hash) => {
          const base = this.chain.byHash(hash);
          return base !== undefined && base.height + validity >= head.height + 1n;
        },
      });
    } catch (error) {
      if (isInvalidTxError(error)) throw new TransactionRejected(error.view);
      throw error;
    }
    this.#pool.push(tx);
    this.#poolHashes.add(key);
    this.#schedule();
  }

  /** Applies state records (sandbox_patch_state) and seals them into a new block. */
  patchState(records: StateRecordView[]): Block {
    this.state.applyRecords(records);
    const block = this.produceBlock();
    this.#drain();
    return block;
  }

  /** Moves the chain `delta` heights ahead in one block (heights in between are skipped). */
  fastForward(delta: bigint): Block {
    if (delta < 1n) throw new Error(`delta_height must be at least 1, got ${delta}`);
    this.#clockOffsetNs += delta * FAST_FORWARD_NS_PER_BLOCK;
    const block = this.produceBlock(delta);
    this.#drain();
    return block;
  }

  /** Produces one block `heightDelta` above the head with the pool and the pending receipts. */
  produceBlock(heightDelta = 1n): Block {
    if (this.#stopped) throw new Error("the node is stopped");
    const prev = this.chain.head;
    const height = prev.height + heightDelta;
    const now = BigInt(Date.now()) * MS + this.#clockOffsetNs;
    const timestamp = now > prev.timestamp ? now : prev.timestamp + MS;
    const transactions = inNonceOrder(this.#pool);
    const receipts = this.#pendingReceipts;
    this.#pool = [];
    this.#poolHashes.clear();
    this.#pendingReceipts = [];

    const txRoot = sha256(concatHashes(transactions.map((t) => t.hash)));
    const hash = sha256(concatHashes([prev.hash, u64Bytes(height), u64Bytes(timestamp), txRoot]));
    const randomValue = sha256(concatHashes([prev.randomValue, hash]));
    const epochIndex = this.#epochIndex(height);
    const ctx: ApplyContext = {
      blockHeight: height,
      blockHash: hash,
      prevBlockHash: prev.hash,
      blockTimestamp: timestamp,
      epochHeight: epochIndex + 1n,
      gasPrice: this.#minGasPrice,
      gasLimit: this.#gasLimit,
      randomSeed: randomValue,
      validators: this.validatorStakes,
      config: this.config,
    };
    const result = this.#runtime.applyChunk(this.state, ctx, transactions, receipts);
    this.state.commitBlock(height);
    this.#pendingReceipts = result.outgoingReceipts;

    const outcomeIds = [
      ...result.transactionOutcomes.map((o) => o.id),
      ...result.receiptOutcomes.map((r) => r.outcome.id),
    ];
    // A transaction the chunk dropped (no outcome) was never part of it, as in nearcore.
    const executed = new Set(result.transactionOutcomes.map((o) => hexKey(o.id)));
    const chunk: Chunk = {
      hash: sha256(concatHashes([hash, txRoot])),
      transactions: transactions.filter((t) => executed.has(hexKey(t.hash))),
      receipts,
      outgoingReceipts: result.outgoingReceipts,
      gasUsed: result.gasBurnt,
      gasLimit: this.#gasLimit,
      balanceBurnt: result.tokensBurnt,
      prevStateRoot: prev.stateRoot,
      outcomeRoot: sha256(concatHashes(outcomeIds)),
      txRoot,
      outgoingReceiptsRoot: sha256(concatHashes(result.outgoingReceipts.map((r) => r.receiptId))),
    };
    const block: Block = {
      height,
      hash,
      prevHash: prev.hash,
      prevHeight: prev.height,
      timestamp,
      gasPrice: this.#minGasPrice,
      totalSupply: prev.totalSupply - result.tokensBurnt,
      epochId: this.#epochId(epochIndex),
      nextEpochId: this.#epochId(epochIndex + 1n),
      epochHeight: epochIndex + 1n,
      epochStartHeight: BigInt(this.genesis.config.genesis_height) + epochIndex * this.#epochLength,
      randomValue,
      stateRoot: sha256(concatHashes([hash, prev.stateRoot])),
      chunk,
      transactionOutcomes: result.transactionOutcomes,
      receiptOutcomes: result.receiptOutcomes,
      stateChanges: result.stateChanges,
    };
    // Durable before anyone can see it: a block answered over RPC is never lost by a crash.
    if (this.#persistence) this.#persist(block);
    this.chain.add(block);
    this.events.emit("block", block);
    this.#armTimer();
    return block;
  }

  /** Appends the block to the chain log; a node that cannot keep its chain stops rather than go on. */
  #persist(block: Block): void {
    try {
      this.#persistence?.append({
        block,
        writes: sealedWrites(this.state),
        clockOffsetNs: this.#clockOffsetNs,
      });
    } catch (error) {
      this.stop();
      throw new Error(
        `cannot write block ${block.height} to the chain log, the node stopped: ${(error as Error).message}`,
      );
    }
  }

  /** Re-adds the blocks of earlier runs with their state writes; nothing is executed again. */
  #resume(entries: Iterable<PersistedBlock>): void {
    for (const { block, writes, clockOffsetNs } of entries) {
      const head = this.chain.head;
      if (!bytesEqual(block.prevHash, head.hash) || block.height <= head.height) {
        throw new Error(
          `the persisted block at height ${block.height} does not follow block ${head.height} (${toBase58(head.hash)}): the chain log does not belong to this chain`,
        );
      }
      applyWrites(this.state, writes);
      this.state.commitBlock(block.height);
      this.chain.add(block);
      this.#clockOffsetNs = clockOffsetNs;
    }
    const head = this.chain.head;
    this.#pendingReceipts = head.chunk.outgoingReceipts;
    // Work of the last blocks may not be final yet (a crash right after it): settle it on start.
    const recent = [head, this.chain.behindHead(1)];
    if (recent.some((b) => b.transactionOutcomes.length > 0 || b.receiptOutcomes.length > 0)) {
      this.#settleLeft = FINALITY_DEPTH;
    }
  }

  get hasWork(): boolean {
    return this.#pool.length > 0 || this.#pendingReceipts.length > 0;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // One block per turn of the event loop: transactions that arrive meanwhile join the next one.
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#stopped) this.#step();
    });
  }

  /** Produces a block if there is work or the last work is not final yet, and schedules the next. */
  #step(): void {
    if (!this.hasWork && this.#settleLeft === 0) return;
    const hadWork = this.hasWork;
    this.produceBlock();
    this.#settleLeft = hadWork ? FINALITY_DEPTH : this.#settleLeft - 1;
    if (this.hasWork || this.#settleLeft > 0) this.#schedule();
  }

  /** Produces blocks at once until no work waits and the last of it is final. */
  #drain(): void {
    while (this.hasWork) this.produceBlock();
    for (let i = 0; i < FINALITY_DEPTH; i++) this.produceBlock();
    this.#settleLeft = 0;
  }

  #armTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#stopped || this.#blockIntervalMs <= 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#stopped) this.produceBlock();
    }, this.#blockIntervalMs);
    this.#timer.unref();
  }

  #epochIndex(height: bigint): bigint {
    return (height - BigInt(this.genesis.config.genesis_height)) / this.#epochLength;
  }

  #epochId(index: bigint): Uint8Array {
    return index === 0n ? ZERO_HASH : sha256(u64Bytes(index));
  }

  #genesisBlock(height: bigint): Block {
    const timestamp = BigInt(Date.parse(this.genesis.config.genesis_time)) * MS;
    const hash = sha256(
      concatHashes([new TextEncoder().encode(this.genesis.config.chain_id), u64Bytes(height)]),
    );
    const empty = sha256(new Uint8Array(0));
    return {
      height,
      hash,
      prevHash: ZERO_HASH,
      prevHeight: null,
      timestamp,
      gasPrice: this.#minGasPrice,
      totalSupply: BigInt(this.genesis.config.total_supply),
      epochId: ZERO_HASH,
      nextEpochId: this.#epochId(1n),
      epochHeight: 1n,
      epochStartHeight: height,
      randomValue: ZERO_HASH,
      stateRoot: sha256(hash),
      chunk: {
        hash: sha256(hash),
        transactions: [],
        receipts: [],
        outgoingReceipts: [],
        gasUsed: 0n,
        gasLimit: this.#gasLimit,
        balanceBurnt: 0n,
        prevStateRoot: ZERO_HASH,
        outcomeRoot: empty,
        txRoot: empty,
        outgoingReceiptsRoot: empty,
      },
      transactionOutcomes: [],
      receiptOutcomes: [],
      stateChanges: [],
    };
  }
}
