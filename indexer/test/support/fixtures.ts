/** Recorded StreamerMessages (test/fixtures) and an in-memory BlockSource over them. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BlockAt, BlockSource } from "../../src/source/block-source.ts";
import { parseStreamerMessage } from "../../src/source/streamer-message.ts";

export interface RecordedFlow {
  registry: string;
  owner: string;
  provider: string;
  verifier: string;
  machineId: string;
  /** Raw StreamerMessages (null for a skipped height), consecutive heights. */
  blocks: (Record<string, unknown> | null)[];
}

/** The recorded registry flow; `registry-flow-v1.json` is the same flow on state version 1. */
export function loadFlow(file = "registry-flow.json"): RecordedFlow {
  const path = fileURLToPath(new URL(`../fixtures/${file}`, import.meta.url));
  return JSON.parse(readFileSync(path, "utf8")) as RecordedFlow;
}

/**
 * A real NEAR mainnet block (height 61321189, four shards) as a raw StreamerMessage (fixtures
 * README: where it comes from).
 */
export function loadMainnetBlock(): Record<string, unknown> {
  const path = fileURLToPath(new URL("../fixtures/mainnet-block-61321189.json", import.meta.url));
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

/** A fixture file's text (test/fixtures/<name>). */
export function fixtureText(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url)), "utf8");
}

/** A deep copy, for tests that edit a message. */
export function copy<T>(value: T): T {
  return structuredClone(value);
}

export function heightOf(message: Record<string, unknown>): number {
  return parseStreamerMessage(message).height;
}

/**
 * Serves raw messages by height: heights up to `final` are final (a missing one is skipped),
 * above it "not yet". `final` may be raised while a test runs.
 */
export class MemorySource implements BlockSource {
  final: number;
  readonly requests: number[] = [];
  #messages = new Map<number, Record<string, unknown>>();

  constructor(messages: Record<string, unknown>[], final?: number) {
    for (const message of messages) {
      this.#messages.set(heightOf(message), message);
    }
    this.final = final ?? Math.max(...this.#messages.keys());
  }

  async finalHeight(): Promise<number> {
    return this.final;
  }

  async blockAt(height: number): Promise<BlockAt> {
    this.requests.push(height);
    if (height > this.final) return { kind: "not-yet", height };
    const message = this.#messages.get(height);
    return message === undefined
      ? { kind: "skipped", height }
      : { kind: "block", block: parseStreamerMessage(message) };
  }
}
