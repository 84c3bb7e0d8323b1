import { KeyPair, KeyPairSigner } from "near-api-js";
import { describe, expect, it } from "vitest";
import { eventsOf, NearChain, panicMessage, rpcUrlOf, signerOf } from "../src/chain.ts";
import { ClientError } from "../src/errors.ts";
import { GpuMarket } from "../src/market.ts";

function thrown(work: () => unknown): ClientError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(ClientError);
    return error as ClientError;
  }
  throw new Error("expected a ClientError");
}

describe("ClientError", () => {
  it("is an Error with a stable code, the job and whether it was refunded", () => {
    const cause = new Error("fail_job");
    const error = new ClientError("job_failed", "job 4: model_unavailable", {
      jobId: "4",
      refunded: true,
      failureCode: "model_unavailable",
      txHash: "abc",
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: "ClientError",
      code: "job_failed",
      message: "job 4: model_unavailable",
      jobId: "4",
      refunded: true,
      failureCode: "model_unavailable",
      txHash: "abc",
      cause,
    });
    expect(new ClientError("bad_input", "x")).toMatchObject({ refunded: false, jobId: undefined });
  });
});

describe("market options", () => {
  it("names what is missing or wrong", () => {
    const account = { accountId: "alice.test.near", signer: KeyPair.fromRandom("ed25519") };
    const cases: [() => unknown, RegExp][] = [
      [
        () => new GpuMarket({ registry: "", escrow: "e" }),
        /registry: expected the registry contract's account id/,
      ],
      [
        () => new GpuMarket({ registry: "r", escrow: "e" }),
        /give network and account \(or your own chain\)/,
      ],
      [
        () =>
          new GpuMarket({ registry: "r", escrow: "e", network: "devnet" as "testnet", account }),
        /network: "devnet" is not localnet, testnet or mainnet/,
      ],
      [
        () => new GpuMarket({ registry: "r", escrow: "e", network: { rpcUrl: "ws://x" }, account }),
        /not an http\(s\) URL/,
      ],
      [
        () => new NearChain("localnet", { accountId: "", signer: account.signer }),
        /account.accountId: expected the account/,
      ],
      [
        () => signerOf("ed25519:notakey" as `ed25519:${string}`),
        /account.signer: not a secret key/,
      ],
    ];
    for (const [work, message] of cases) {
      const error = thrown(work);
      expect(error.code).toBe("bad_input");
      expect(error.message).toMatch(message);
    }
    expect(() => signerOf({} as KeyPair)).toThrow(/account.signer: expected a Signer, a KeyPair/);
    const keyPair = KeyPair.fromRandom("ed25519");
    expect(signerOf(keyPair)).toBeInstanceOf(KeyPairSigner);
    expect(signerOf(keyPair.toString())).toBeInstanceOf(KeyPairSigner);
    const signer = new KeyPairSigner(keyPair);
    expect(signerOf(signer)).toBe(signer);
    expect(rpcUrlOf("testnet")).toBe("https://rpc.testnet.near.org");
    expect(
      new GpuMarket({ registry: "r", escrow: "e", network: "localnet", account }).accountId,
    ).toBe("alice.test.near");
  });

  it("turns an unreachable RPC into rpc_error naming the URL", async () => {
    const chain = new NearChain(
      { rpcUrl: "http://127.0.0.1:9" },
      { accountId: "alice.test.near", signer: KeyPair.fromRandom("ed25519").toString() },
    );
    const error = (await chain
      .view("escrow.test.near", "job", { job_id: "0" })
      .catch((e: unknown) => e)) as ClientError;
    expect(error).toBeInstanceOf(ClientError);
    expect(error.code).toBe("rpc_error");
    expect(error.message).toMatch(/http:\/\/127.0.0.1:9/);
  });
});

describe("transaction outcomes", () => {
  it("keeps a contract panic's message and reads NEP-297 events from logs", () => {
    expect(
      panicMessage(
        "Smart contract panicked: max_amount: must be greater than 0\n    at x (y.js:1)",
      ),
    ).toBe("max_amount: must be greater than 0");
    const events = eventsOf([
      "a plain log",
      'EVENT_JSON:{"standard":"gpumarket","version":"1.0.0","event":"job_created","data":[{"id":"3"}]}',
      "EVENT_JSON:{not json",
    ]);
    expect(events).toEqual([
      { standard: "gpumarket", version: "1.0.0", event: "job_created", data: [{ id: "3" }] },
    ]);
  });
});
