import { beforeAll, describe, expect, test } from "vitest";
import { VerificationError } from "../src/errors.ts";
import { verifyGpuEvidence } from "../src/nvidia/token.ts";
import { gpuClaims, nrasResult, type TestSigner, testSigner } from "./nvidia-helpers.ts";

const NONCE = "ab".repeat(32);
let signer: TestSigner;

beforeAll(async () => {
  signer = await testSigner();
});

async function failure(
  text: string,
  jwks = signer.jwks,
  nonce = NONCE,
): Promise<VerificationError> {
  try {
    await verifyGpuEvidence(text, { jwks, nonce, now: new Date() });
  } catch (error) {
    if (error instanceof VerificationError) {
      return error;
    }
    throw error;
  }
  throw new Error("GPU evidence unexpectedly verified");
}

describe("NVIDIA NRAS attestation result", () => {
  test("verifies signatures and claims and records driver and vBIOS", async () => {
    const result = await verifyGpuEvidence(await nrasResult(signer, NONCE), {
      jwks: signer.jwks,
      nonce: NONCE,
      now: new Date(),
    });
    expect(result.driverVersion).toBe("580.159.04");
    expect(result.vbiosVersion).toBe("96.00.9F.00.04");
    expect(result.gpus).toEqual([
      {
        id: "GPU-0",
        hwmodel: "GH100 A01 GSP BROM",
        driverVersion: "580.159.04",
        vbiosVersion: "96.00.9F.00.04",
      },
    ]);
    expect(result.checks.join("\n")).toMatch(/secure boot on, debug disabled, nonce matches/);
  });

  test("a single JWT carrying the GPU claims is accepted", async () => {
    const token = await signer.sign({ "x-nvidia-overall-att-result": true, ...gpuClaims(NONCE) });
    const result = await verifyGpuEvidence(token, {
      jwks: signer.jwks,
      nonce: NONCE,
      now: new Date(),
    });
    expect(result.driverVersion).toBe("580.159.04");
  });

  test("tokens signed by another key are refused", async () => {
    const other = await testSigner();
    const error = await failure(await nrasResult(other, NONCE));
    expect(error.code).toBe("gpu_token_invalid");
    expect(error.message).toMatch(/^overall GPU token: signature verification failed/);
  });

  test("a nonce other than the registry's is refused", async () => {
    const error = await failure(await nrasResult(signer, "cd".repeat(32)));
    expect(error.code).toBe("gpu_claim_failed");
    expect(error.message).toBe(
      `overall GPU token: eat_nonce is "${"cd".repeat(32)}", expected "${NONCE}"`,
    );
  });

  test("a failed measurement or secure boot off is refused", async () => {
    for (const [change, message] of [
      [{ measres: "fail" }, 'GPU-0: measres is "fail", expected "success"'],
      [{ secboot: false }, "GPU-0: secboot is false, expected true"],
    ] as const) {
      const error = await failure(
        await nrasResult(signer, NONCE, { ...gpuClaims(NONCE), ...change }),
      );
      expect(error.code).toBe("gpu_claim_failed");
      expect(error.message).toBe(message);
    }
  });

  test("a GPU in debug or CC devtools mode is refused with its own code", async () => {
    for (const dbgstat of ["enabled", "devtools", null]) {
      const error = await failure(
        await nrasResult(signer, NONCE, { ...gpuClaims(NONCE), dbgstat }),
      );
      expect(error.code).toBe("gpu_debug_mode");
      expect(error.message).toBe(
        `GPU-0: dbgstat is ${JSON.stringify(dbgstat)}, not "disabled": the GPU runs in a debug ` +
          "or CC devtools mode, in which tools can read its memory",
      );
    }
    const { dbgstat: _, ...withoutDbgstat } = gpuClaims(NONCE);
    const missing = await failure(await nrasResult(signer, NONCE, withoutDbgstat));
    expect(missing.message).toBe("GPU-0: claim dbgstat is missing");
  });

  test("an overall result of false is refused", async () => {
    const text = await nrasResult(signer, NONCE, gpuClaims(NONCE), {
      "x-nvidia-overall-att-result": false,
    });
    const error = await failure(text);
    expect(error.message).toBe(
      "overall GPU token: x-nvidia-overall-att-result is false, expected true",
    );
  });

  test("a detached token swapped for another signed one fails the listed digest", async () => {
    const text = JSON.parse(await nrasResult(signer, NONCE));
    text[1]["GPU-0"] = await signer.sign(gpuClaims(NONCE));
    const error = await failure(JSON.stringify(text));
    expect(error.code).toBe("gpu_token_invalid");
    expect(error.message).toMatch(/^GPU-0: token digest [0-9a-f]{64} is not the/);
  });

  test("an expired token is refused", async () => {
    const token = await signer.sign(
      { "x-nvidia-overall-att-result": true, ...gpuClaims(NONCE) },
      { expiresIn: "-1m" },
    );
    const error = await failure(token);
    expect(error.code).toBe("gpu_token_expired");
  });

  test("a missing driver version claim is named", async () => {
    const claims = gpuClaims(NONCE);
    delete claims["x-nvidia-gpu-driver-version"];
    const error = await failure(await nrasResult(signer, NONCE, claims));
    expect(error.message).toBe("GPU-0: claim x-nvidia-gpu-driver-version is missing");
  });

  test("malformed evidence says what shape is expected", async () => {
    const error = await failure('[{"GPU-0": "x"}]');
    expect(error.code).toBe("bad_gpu_evidence");
  });
});
