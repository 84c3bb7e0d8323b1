/**
 * verifier run: the service registry verifiers operate. Polls the registry for pending evidence,
 * verifies it and posts verdicts signed by --account, logging each decision as a JSON line.
 */
import { parseArgs } from "node:util";
import { loadPrivateKey } from "../service/credentials.ts";
import { NearRegistry } from "../service/near-registry.ts";
import { PostedStore } from "../service/posted-store.ts";
import { jsonLogger, VerifierService } from "../service/service.ts";
import { loadPolicy, loadTrust } from "../trust.ts";

const RPC: Record<string, string> = {
  localnet: "http://127.0.0.1:3030",
  testnet: "https://rpc.testnet.near.org",
  mainnet: "https://rpc.mainnet.near.org",
};

const USAGE = `usage: verifier run --network localnet|testnet|mainnet --registry ACCOUNT --account ACCOUNT
    --root-ca FILE (--pccs URL [--collateral-cache DIR] | --collateral FILE)
    [--nvidia-jwks FILE] [--policy FILE]
    [--rpc URL] [--state FILE] [--interval SECONDS] [--once]
  key: NEAR_PRIVATE_KEY=ed25519:... or ~/.near-credentials/<network>/<account>.json`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== "run") {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(rest).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const network = values.network ?? "";
  const rpcUrl = values.rpc ?? RPC[network];
  const missing = [
    rpcUrl === undefined ? "--network (localnet|testnet|mainnet) or --rpc" : null,
    values.registry === undefined ? "--registry" : null,
    values.account === undefined ? "--account" : null,
    values["root-ca"] === undefined ? "--root-ca" : null,
    values.pccs === undefined && values.collateral === undefined ? "--pccs or --collateral" : null,
  ].filter((m) => m !== null);
  if (missing.length > 0 || rpcUrl === undefined) {
    process.stderr.write(`missing ${missing.join(", ")}\n${USAGE}\n`);
    return 2;
  }
  const interval = Number(values.interval ?? "10");
  if (!Number.isFinite(interval) || interval <= 0) {
    process.stderr.write("--interval: expected a positive number of seconds\n");
    return 2;
  }
  try {
    const account = values.account as string;
    const service = new VerifierService({
      account,
      registry: new NearRegistry({
        rpcUrl,
        registryId: values.registry as string,
        accountId: account,
        privateKey: loadPrivateKey(network, account),
      }),
      trust: loadTrust(
        {
          rootCa: values["root-ca"] as string,
          collateral: values.collateral,
          pccs: values.pccs,
          collateralCache: values["collateral-cache"],
          nvidiaJwks: values["nvidia-jwks"],
        },
        { log: jsonLogger },
      ),
      policy: loadPolicy(values.policy),
      posted: new PostedStore(values.state ?? null),
      log: jsonLogger,
    });
    if (values.once) {
      await service.tick();
      return 0;
    }
    const stop = new AbortController();
    process.once("SIGINT", () => stop.abort());
    process.once("SIGTERM", () => stop.abort());
    await service.run(interval * 1000, stop.signal);
    return 0;
  } catch (error) {
    process.stderr.write(`verifier: ${(error as Error).message}\n`);
    return 2;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      network: { type: "string" },
      rpc: { type: "string" },
      registry: { type: "string" },
      account: { type: "string" },
      "root-ca": { type: "string" },
      collateral: { type: "string" },
      pccs: { type: "string" },
      "collateral-cache": { type: "string" },
      "nvidia-jwks": { type: "string" },
      policy: { type: "string" },
      state: { type: "string" },
      interval: { type: "string" },
      once: { type: "boolean" },
    },
  });
}
