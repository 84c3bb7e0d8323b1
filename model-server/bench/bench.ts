/**
 * npm run bench -w @gpu-market/model-server [-- --runs N] [--max-tokens N] [--threads N] [--json]
 *
 * Generates the tiny model, then measures on this CPU: the llama.cpp runtime's start, the model
 * server's start (sha256, runtime, model, context, as startModelServer does it), and over HTTP with streaming requests: time to first
 * token (request sent -> first content delta) and decode speed (completion tokens after the
 * first / time from first to last delta). Medians over the runs, after one warm-up request.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startModelServer, writeTinyModel } from "../src/index.ts";
import { loadLlamaRuntime } from "../src/llama/runtime.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    "max-tokens": { type: "string", default: "256" },
    threads: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
const maxTokens = Number(values["max-tokens"]);
const threads = Number(values.threads);
for (const [flag, value] of [
  ["--runs", runs],
  ["--max-tokens", maxTokens],
  ["--threads", threads],
] as const) {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${flag} must be a positive whole number`);
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const messages = [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "Summarise the rules of chess in three sentences." },
];

interface Run {
  ttftMs: number;
  decodeTokensPerSecond: number;
  totalMs: number;
  promptTokens: number;
  completionTokens: number;
}

async function streamOnce(url: string, model: string): Promise<Run> {
  const start = performance.now();
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model,
      messages,
      max_tokens: maxTokens,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  if (response.status !== 200 || response.body === null) {
    throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  }
  let first: number | undefined;
  let last = start;
  let buffer = "";
  let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
  const decoder = new TextDecoder();
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end !== -1) {
      const data = buffer.slice("data: ".length, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
      if (data === "[DONE]") continue;
      const chunk = JSON.parse(data);
      if (chunk.usage) usage = chunk.usage;
      if (chunk.choices[0]?.delta?.content) {
        first ??= performance.now();
        last = performance.now();
      }
    }
  }
  const done = performance.now();
  if (first === undefined || usage === undefined)
    throw new Error("no content or no usage in the stream");
  // Tokens after the first content delta, over the time they took.
  const decodeTokens = usage.completion_tokens - 1;
  return {
    ttftMs: first - start,
    decodeTokensPerSecond: decodeTokens / ((last - first) / 1000),
    totalMs: done - start,
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
  };
}

const dir = await mkdtemp(join(tmpdir(), "model-server-bench-"));
try {
  const generateStart = performance.now();
  const model = await writeTinyModel(join(dir, "tiny-llama.gguf"));
  const generateMs = performance.now() - generateStart;
  // The runtime alone: node-llama-cpp finds the prebuilt binary and tests it in a child process.
  const runtimeStart = performance.now();
  await (await loadLlamaRuntime()).dispose();
  const runtimeMs = performance.now() - runtimeStart;
  const loadStart = performance.now();
  const server = await startModelServer({ modelPath: model.path, threads });
  const loadMs = performance.now() - loadStart;
  try {
    await streamOnce(server.url, server.modelName); // warm-up
    const results: Run[] = [];
    for (let i = 0; i < runs; i++) results.push(await streamOnce(server.url, server.modelName));
    const report = {
      model: { bytes: model.bytes, parameters: model.parameters, sha256: model.sha256 },
      threads,
      runs,
      max_tokens: maxTokens,
      prompt_tokens: results[0]?.promptTokens,
      completion_tokens: results[0]?.completionTokens,
      generate_ms: Math.round(generateMs),
      runtime_ms: Math.round(runtimeMs),
      load_ms: Math.round(loadMs),
      ttft_ms_median: Number(median(results.map((r) => r.ttftMs)).toFixed(1)),
      decode_tokens_per_second_median: Math.round(
        median(results.map((r) => r.decodeTokensPerSecond)),
      ),
      end_to_end_tokens_per_second_median: Math.round(
        median(results.map((r) => r.completionTokens / (r.totalMs / 1000))),
      ),
      load_average_1m: Number(loadavg()[0]?.toFixed(2)),
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      process.stdout.write(
        [
          `tiny llama: ${model.bytes} bytes, ${model.parameters} parameters, ${threads} thread(s), load average ${report.load_average_1m}`,
          `  generate the GGUF            ${report.generate_ms} ms`,
          `  llama.cpp runtime alone      ${report.runtime_ms} ms  (binary found and tested in a child process)`,
          `  server start                 ${report.load_ms} ms  (sha256, runtime, model, context, listen)`,
          `  time to first token          ${report.ttft_ms_median} ms  (median of ${runs}, prompt ${report.prompt_tokens} tokens)`,
          `  decode                       ${report.decode_tokens_per_second_median} tokens/s  (${report.completion_tokens} tokens per request)`,
          `  end to end                   ${report.end_to_end_tokens_per_second_median} tokens/s`,
          "",
        ].join("\n"),
      );
    }
  } finally {
    await server.close();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
