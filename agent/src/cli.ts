#!/usr/bin/env node
/**
 * `gpu-market provider <run|withdraw|status>`: the provider agent's commands. The gpu-market CLI
 * delegates here; `node agent/src/cli.ts <subcommand>` is the same. `run` logs one readable line
 * per step (JSON lines with --json) and stops cleanly on Ctrl-C (a second Ctrl-C exits at once).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadAccountKey } from "./chain/credentials.ts";
import { Escrow } from "./chain/escrow.ts";
import { NearClient } from "./chain/near.ts";
import { parseCommand, type StatusConfig, USAGE, type WithdrawConfig } from "./config.ts";
import { AgentError, EXIT_FAILURE, messageOf } from "./errors.ts";
import { createLogger } from "./log.ts";
import { startProvider } from "./runtime.ts";
import { Cursor } from "./store/cursor.ts";
import { Journal, LOCAL_STATES } from "./store/journal.ts";
import { SessionStore } from "./store/sessions.ts";

function print(json: boolean, document: unknown, lines: string[]): void {
  process.stdout.write(json ? `${JSON.stringify(document)}\n` : `${lines.join("\n")}\n`);
}

async function withdraw(config: WithdrawConfig): Promise<void> {
  const near = new NearClient(
    config.rpcUrl,
    config.account,
    loadAccountKey(config.network, config.account),
  );
  const escrow = new Escrow(near, config.escrow);
  const credited = await escrow.balance(config.asset);
  if (credited === 0n) {
    throw new AgentError(`${config.account} has no ${config.asset} credited in ${config.escrow}`, {
      hint: "earnings are credited when a delivered job settles (client confirmation or the dispute window)",
    });
  }
  const amount = config.amount ?? credited;
  const txHash = await escrow.withdraw(config.asset, amount);
  print(
    config.json,
    {
      ok: true,
      account: config.account,
      asset: config.asset,
      amount: amount.toString(),
      tx_hash: txHash,
    },
    [
      `withdrew ${amount} ${config.asset === "NEAR" ? "yoctoNEAR" : config.asset} to ${config.account} (tx ${txHash})`,
    ],
  );
}

async function status(config: StatusConfig): Promise<void> {
  if (!existsSync(join(config.dataDir, "jobs"))) {
    throw new AgentError(`${config.dataDir} holds no agent journal`, {
      hint: "pass the --data-dir the agent runs with",
    });
  }
  const jobs = new Journal(config.dataDir).all();
  const counts = Object.fromEntries(
    LOCAL_STATES.map((s) => [s, jobs.filter((j) => j.state === s).length]),
  );
  const cursor = new Cursor(config.dataDir).nextHeight;
  let balance: string | null = null;
  if (config.chain !== null) {
    const near = new NearClient(config.chain.rpcUrl, config.chain.account, null);
    balance = (await new Escrow(near, config.chain.escrow).balance("NEAR")).toString();
  }
  const open = jobs.filter((j) => !["delivered", "failed", "closed"].includes(j.state));
  const sessions = new SessionStore(config.dataDir).all().map((r) => ({
    id: r.id,
    machine_id: r.machine_id,
    client: r.client,
    status: r.status,
    asset: r.asset,
    budget: r.budget,
    charged: r.charged,
    budget_left: (BigInt(r.budget) - BigInt(r.charged)).toString(),
    requests: r.requests,
    nonce: r.nonce,
    expires_at: r.expires_at,
    claimed: r.claimed,
    provider_payout: r.provider_payout,
  }));
  print(
    config.json,
    {
      ok: true,
      data_dir: config.dataDir,
      next_height: cursor,
      jobs: counts,
      open: open.map((j) => ({ id: j.id, state: j.state, machine_id: j.machine_id })),
      sessions,
      balance_yocto: balance,
    },
    [
      `data dir     ${config.dataDir}`,
      `next block   ${cursor ?? "(not started)"}`,
      `jobs         ${LOCAL_STATES.map((s) => `${s} ${counts[s]}`).join(", ")}`,
      ...open.map((j) => `  job ${j.id} (machine ${j.machine_id}): ${j.state}`),
      `sessions     ${sessions.length}${sessions.length === 0 ? "" : " (budget, charged, left in base units of the asset)"}`,
      ...sessions.map(
        (x) =>
          `  session ${x.id} (machine ${x.machine_id}, ${x.client}): ${x.status}, budget ${x.budget} ${x.asset}, charged ${x.charged}, left ${x.budget_left}, ${x.requests} request(s)${x.provider_payout === null ? "" : `, paid ${x.provider_payout}`}`,
      ),
      ...(balance === null
        ? []
        : [`credited     ${balance} yoctoNEAR (withdraw with \`gpu-market provider withdraw\`)`]),
    ],
  );
}

/** Runs a provider subcommand; throws AgentError (message, fix, exit code) on failure. */
export async function providerCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv);
  switch (parsed.command) {
    case "help":
      process.stdout.write(`${USAGE}\n`);
      return;
    case "withdraw":
      return withdraw(parsed.config);
    case "status":
      return status(parsed.config);
    case "run": {
      const log = createLogger({
        json: parsed.config.json,
        level: process.env.GPU_MARKET_DEBUG ? "debug" : "info",
      });
      const running = await startProvider(parsed.config, { log });
      let signals = 0;
      const onSignal = (signal: string) => {
        signals++;
        if (signals > 1) {
          log.warn(`${signal} again: exiting now; open jobs resume at the next start`);
          process.exit(130);
        }
        log.info(`${signal}: stopping (Ctrl-C again to exit at once)`);
        running.stop().catch((error) => log.error("stopping failed", { error }));
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      try {
        await running.done;
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
      return;
    }
  }
}

if (import.meta.main) {
  providerCommand(process.argv.slice(2)).then(
    () => {
      process.exitCode = 0;
    },
    (error) => {
      const known = error instanceof AgentError;
      process.stderr.write(
        `error: ${known ? error.message : `internal error: ${messageOf(error)}`}\n`,
      );
      if (known && error.hint !== undefined) process.stderr.write(`fix: ${error.hint}\n`);
      process.exitCode = known ? error.exitCode : EXIT_FAILURE;
      if (!known && process.env.GPU_MARKET_DEBUG)
        process.stderr.write(`${(error as Error).stack}\n`);
    },
  );
}
