/**
 * Cost of the confidential path per request, on this CPU: sealing a chat request of 1 KB, 10 KB
 * and 100 KB to a machine key (client), opening it (agent), and sealing/opening a 10 KB answer in
 * 64-byte frames (what a token stream produces). Prints per-operation times (median of N).
 * Run: npm run bench -w @gpu-market/protocol
 */
import { loadavg } from "node:os";
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

/** Median wall time and mean CPU time (user + system) per call, in ms. */
async function time(fn: () => Promise<unknown> | unknown): Promise<{ wall: number; cpu: number }> {
  const samples: number[] = [];
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  const cpu = process.cpuUsage(cpuStart);
  return { wall: median(samples), cpu: (cpu.user + cpu.system) / 1000 / ROUNDS };
}

const show = (t: { wall: number; cpu: number }) =>
  `${t.wall.toFixed(3)} ms (cpu ${t.cpu.toFixed(3)} ms)`;

const machine = generateMachineSecrets();
const key = encryptionPublicKey(machine.encryption);
console.log(
  `protocol crypto bench: median wall time of ${ROUNDS} rounds (and mean CPU time), Node ${process.version}, load ${loadavg()[0]?.toFixed(1)}`,
);
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
    `  request ${String(size / 1024).padStart(3)} KB: seal ${show(seal)}, open ${show(open)}, envelope ${sealed.envelope.length} B`,
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
  `  answer 10 KB in ${frames} frames: seal ${show(sealAnswer)}, open ${show(openAnswer)}, file ${file.length} B`,
);
