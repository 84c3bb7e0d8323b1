import { describe, expect, it } from "vitest";
import { openResponse, ResponseReader, ResponseSealer } from "../src/response.ts";

const key = new Uint8Array(32).fill(9);
const inputHash = "ab".repeat(32);

function answer(parts: string[]): Uint8Array[] {
  const sealer = new ResponseSealer(key, inputHash);
  return parts.map((content, i) =>
    sealer.seal(
      { content, finish_reason: i === parts.length - 1 ? "stop" : null },
      i === parts.length - 1,
    ),
  );
}

const join = (lines: Uint8Array[]) => Buffer.concat(lines);

describe("response frames", () => {
  it("round-trip in order, with the finish reason and the frame count", () => {
    const opened = openResponse(join(answer(["Hel", "lo ", "wörld"])), key, inputHash);
    expect(opened).toEqual({ content: "Hello wörld", finishReason: "stop", frames: 3 });
  });

  it("stream: a reader opens frames one by one", () => {
    const reader = new ResponseReader(key, inputHash);
    const lines = answer(["a", "b"]).map((l) => Buffer.from(l).toString().trimEnd());
    expect(reader.open(lines[0] ?? "").content).toBe("a");
    expect(reader.complete).toBe(false);
    expect(reader.open(lines[1] ?? "").finish_reason).toBe("stop");
    expect(reader.complete).toBe(true);
    expect(() => reader.open(lines[1] ?? "")).toThrow(/after the final frame/);
  });

  it("detect reordering, truncation, a missing final frame and extra frames", () => {
    const [a, b, c] = answer(["1", "2", "3"]) as [Uint8Array, Uint8Array, Uint8Array];
    expect(() => openResponse(join([a, c, b]), key, inputHash)).toThrow(/carries index 2/);
    expect(() => openResponse(join([a, b]), key, inputHash)).toThrow(/no final frame/);
    expect(() => openResponse(join([a, b, c]).subarray(0, -1), key, inputHash)).toThrow(
      /truncated/,
    );
    expect(() => openResponse(join([a, b, c, c]), key, inputHash)).toThrow(/after the final/);
  });

  it("a frame whose final flag was flipped does not decrypt", () => {
    const [a, b] = answer(["1", "2"]) as [Uint8Array, Uint8Array];
    const forged = Buffer.from(Buffer.from(a).toString().replace('"final":"0"', '"final":"1"'));
    expect(() => openResponse(forged, key, inputHash)).toThrow(/does not decrypt/);
    expect(openResponse(join([a, b]), key, inputHash).frames).toBe(2);
  });

  it("frames from another job's answer (other key or input hash) do not decrypt", () => {
    const lines = answer(["x"]);
    expect(() => openResponse(join(lines), new Uint8Array(32).fill(8), inputHash)).toThrow(
      /does not decrypt/,
    );
    expect(() => openResponse(join(lines), key, "cd".repeat(32))).toThrow(/does not decrypt/);
  });

  it("the sealer refuses to write after the final frame", () => {
    const sealer = new ResponseSealer(key, inputHash);
    sealer.seal({ content: "", finish_reason: "stop" }, true);
    expect(() => sealer.seal({ content: "", finish_reason: null }, false)).toThrow(/final frame/);
  });
});
