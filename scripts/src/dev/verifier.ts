/**
 * A verifier service in this process, signing as the demo verifier: it judges none-dev evidence
 * (dev policy: accepted on localnet only) and posts verdicts, as a registry verifier does. It
 * cannot judge TDX quotes here (no Intel collateral offline); those are retried, never rejected.
 */

import { DEFAULT_POLICY } from "@gpu-market/verifier";
import { NearRegistry } from "../../../verifier/src/service/near-registry.ts";
import { PostedStore } from "../../../verifier/src/service/posted-store.ts";
import { VerifierService } from "../../../verifier/src/service/service.ts";
import { keyPath, readKeyFile } from "../credentials.ts";
import type { DevLog } from "./log.ts";

export interface VerifierOptions {
  rpcUrl: string;
  registry: string;
  account: string;
  credentialsDir: string;
  postedPath: string;
  intervalMs: number;
}

export function startVerifier(options: VerifierOptions, log: DevLog): { stop(): Promise<void> } {
  const key = readKeyFile(
    keyPath(options.credentialsDir, "localnet", options.account),
    options.account,
  );
  const service = new VerifierService({
    account: options.account,
    registry: new NearRegistry({
      rpcUrl: options.rpcUrl,
      registryId: options.registry,
      accountId: options.account,
      privateKey: key.private_key as `ed25519:${string}`,
    }),
    trust: {
      rootCa: new Uint8Array(),
      collateral: async () => {
        throw new Error("no Intel collateral on localnet: TDX quotes are not judged here");
      },
      nvidiaJwks: null,
    },
    policy: { ...DEFAULT_POLICY, requireGpu: false, allowDev: true },
    posted: new PostedStore(options.postedPath),
    log: (record) => {
      if (record.event === "decision") {
        log.info(
          "verifier",
          `machine #${String(record.machine_id)}: ${record.approve ? "approve" : "reject"} (${String(record.tcb_status)})${record.approve ? "" : ` ${String(record.reason)}`}`,
        );
      } else if (record.event === "retry" || record.event === "poll_failed") {
        log.warn("verifier", `${record.event}: ${String(record.error ?? "")}`);
      }
    },
    retryBaseMs: 1000,
    retryMaxMs: 30_000,
  });
  const controller = new AbortController();
  const done = service.run(options.intervalMs, controller.signal).catch((error: unknown) => {
    log.error("verifier", `stopped: ${(error as Error).message}`);
  });
  log.info("verifier", `running as ${options.account} (dev policy: none-dev evidence accepted)`);
  return {
    async stop() {
      controller.abort();
      await done;
    },
  };
}
