/**
 * Cost of the confidential path per request, on this CPU: sealing a chat request of 1 KB, 10 KB
 * and 100 KB to a machine key (client), opening it (agent), and sealing/opening a 10 KB answer in
 * 64-byte frames (what a token stream produces). Prints per-operation times (median of N).
 * Run: npm run bench -w @gpu-market/protocol
 */
import { performance } from "node:perf_hooks";
import {
  type ChatRequest,
  encryptionPublicKey,
  generateMachineSecrets,
  openRequest,
  openResponse,
  ResponseSealer,
  sealRequest,
} from "../src/index.ts";

const ROUNDS = 200;
const binding = {
  escrow: "escrow.test.near",
  client: "alice.test.near",
  machine_id: "0",
  model: "ab".repeat(32),
  keyset_sha256: "cd".repeat(32),
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

const machine = generateMachineSecrets();
const key = encryptionPublicKey(machine.encryption);
console.log(`protocol crypto bench: median of ${ROUNDS} rounds, Node ${process.version}`);
for (const size of [1024, 10 * 1024, 100 * 1024]) {
  const request: ChatRequest = {
    model: "tiny",
    messages: [{ role: "user", content: "x".repeat(size) }],
    max_tokens: 64,
  };
  const sealed = await sealRequest(binding, key, request);
  const seal = await time(() => sealRequest(binding, key, request));
  const open = await time(() => openRequest(binding, sealed.envelope, machine.encryption));
  console.log(
    `  request ${String(size / 1024).padStart(3)} KB: seal ${seal.toFixed(3)} ms, open ${open.toFixed(3)} ms, envelope ${sealed.envelope.length} B`,
  );
}
const responseKey = new Uint8Array(32).fill(1);
const chunk = "y".repeat(64);
const frames = 160; // 10 KB of answer in 64-byte deltas
let file = new Uint8Array();
const sealAnswer = await time(() => {
  const sealer = new ResponseSealer(responseKey, "ab".repeat(32));
  const lines: Uint8Array[] = [];
  for (let i = 0; i < frames; i++) {
    lines.push(
      sealer.seal(
        { content: chunk, finish_reason: i === frames - 1 ? "stop" : null },
        i === frames - 1,
      ),
    );
  }
  file = Buffer.concat(lines);
});
const openAnswer = await time(() => openResponse(file, responseKey, "ab".repeat(32)));
console.log(
  `  answer 10 KB in ${frames} frames: seal ${sealAnswer.toFixed(3)} ms, open ${openAnswer.toFixed(3)} ms, file ${file.length} B`,
);
