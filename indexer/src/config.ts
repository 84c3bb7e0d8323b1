/**
 * Command-line settings (explicit flags, near-cli style), with DATABASE_URL from the environment.
 * Every value is validated with a message naming the flag.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Contracts } from "./decode/contracts.ts";
import { LAKE_BUCKETS, LAKE_REGION } from "./source/lake.ts";

export const NETWORKS: Record<string, { source: string; rpc: string }> = {
  localnet: { source: "http://127.0.0.1:3030", rpc: "http://127.0.0.1:3030" },
  testnet: { source: "https://testnet.neardata.xyz", rpc: "https://rpc.testnet.near.org" },
  mainnet: { source: "https://mainnet.neardata.xyz", rpc: "https://rpc.mainnet.near.org" },
};

/** Where blocks come from: a neardata-compatible HTTP server, or a NEAR Lake bucket. */
export type SourceConfig =
  | {
      kind: "neardata";
      url: string;
      apiKey: string | undefined;
      requestsPerSecond: number | undefined;
    }
  | {
      kind: "lake";
      bucket: string;
      region: string;
      endpoint: string | undefined;
      credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
      requestsPerSecond: number | undefined;
    };

export interface Config {
  network: string;
  source: SourceConfig;
  /** The neardata URL (also when indexing from a lake: the network's default). */
  sourceUrl: string;
  rpcUrl: string;
  contracts: Contracts;
  startHeight: number | undefined;
  reindexFrom: number | undefined;
  databaseUrl: string | undefined;
  dataDir: string;
  pgPort: number;
  apiHost: string;
  apiPort: number;
  apiWorkers: number;
  apiCache: boolean;
  prefetch: number;
  fetchConcurrency: number;
  batchBlocks: number;
  batchEvents: number;
  maxLagBlocks: number;
  logJson: boolean;
  logLevel: "debug" | "info" | "warn" | "error";
  json: boolean;
  sample: number;
  all: boolean;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

const OPTIONS = {
  network: { type: "string" },
  source: { type: "string" },
  "source-url": { type: "string" },
  "source-api-key": { type: "string" },
  "source-rps": { type: "string" },
  "lake-bucket": { type: "string" },
  "lake-region": { type: "string" },
  "lake-endpoint": { type: "string" },
  "rpc-url": { type: "string" },
  registry: { type: "string" },
  escrow: { type: "string" },
  governance: { type: "string" },
  "start-height": { type: "string" },
  "reindex-from": { type: "string" },
  "database-url": { type: "string" },
  "data-dir": { type: "string" },
  "pg-port": { type: "string" },
  "api-host": { type: "string" },
  "api-port": { type: "string" },
  "api-workers": { type: "string" },
  "api-cache": { type: "boolean" },
  prefetch: { type: "string" },
  "fetch-concurrency": { type: "string" },
  "batch-blocks": { type: "string" },
  "batch-events": { type: "string" },
  "max-lag-blocks": { type: "string" },
  "log-json": { type: "boolean" },
  "log-level": { type: "string" },
  json: { type: "boolean" },
  sample: { type: "string" },
  all: { type: "boolean" },
  help: { type: "boolean" },
} as const;

const ACCOUNT_ID = /^(([a-z\d]+[-_])*[a-z\d]+\.)*([a-z\d]+[-_])*[a-z\d]+$/;

function int(
  flag: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(
      `--${flag}: must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}

function account(flag: string, value: string | undefined): string | null {
  if (value === undefined) return null;
  if (value.length < 2 || value.length > 64 || !ACCOUNT_ID.test(value)) {
    throw new ConfigError(`--${flag}: must be a NEAR account id, got ${JSON.stringify(value)}`);
  }
  return value;
}

function url(flag: string, value: string): string {
  if (!/^https?:\/\/[^\s]+$/.test(value)) {
    throw new ConfigError(`--${flag}: must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return value.replace(/\/+$/, "");
}

export const DEFAULT_DATA_DIR = fileURLToPath(new URL("../.data/postgres", import.meta.url));

export function parseConfig(
  argv: string[],
  env: NodeJS.ProcessEnv,
): { command: string; config: Config; help: boolean } {
  let parsed: ReturnType<
    typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; allowNegative: true }>
  >;
  try {
    parsed = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const command = positionals[0] ?? "help";
  if (positionals.length > 1) {
    throw new ConfigError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  }
  const network = values.network ?? "localnet";
  const defaults = NETWORKS[network];
  if (
    defaults === undefined &&
    (values["source-url"] === undefined || values["rpc-url"] === undefined)
  ) {
    throw new ConfigError(
      `--network: ${JSON.stringify(network)} is not one of ${Object.keys(NETWORKS).join(", ")}; give --source-url and --rpc-url for another network`,
    );
  }
  const level = values["log-level"] ?? "info";
  if (!["debug", "info", "warn", "error"].includes(level)) {
    throw new ConfigError(
      `--log-level: must be debug, info, warn or error, got ${JSON.stringify(level)}`,
    );
  }
  const sourceKind = values.source ?? "neardata";
  if (sourceKind !== "neardata" && sourceKind !== "lake") {
    throw new ConfigError(`--source: must be neardata or lake, got ${JSON.stringify(sourceKind)}`);
  }
  const sourceUrl = url("source-url", values["source-url"] ?? defaults?.source ?? "");
  const rps = values["source-rps"];
  if (rps !== undefined && !(/^\d+(\.\d+)?$/.test(rps) && Number(rps) > 0)) {
    throw new ConfigError(`--source-rps: must be a number above 0, got ${JSON.stringify(rps)}`);
  }
  const requestsPerSecond = rps === undefined ? undefined : Number(rps);
  let source: SourceConfig;
  if (sourceKind === "neardata") {
    const apiKey = values["source-api-key"] ?? env.NEARDATA_API_KEY;
    if (apiKey !== undefined && !/^[\x21-\x7e]{1,256}$/.test(apiKey)) {
      throw new ConfigError(
        "--source-api-key / NEARDATA_API_KEY: must be printable ASCII without spaces",
      );
    }
    source = { kind: "neardata", url: sourceUrl, apiKey, requestsPerSecond };
  } else {
    const bucket = values["lake-bucket"] ?? LAKE_BUCKETS[network];
    if (bucket === undefined) {
      throw new ConfigError(`--lake-bucket: NEAR Lake has no bucket for ${network}; name one`);
    }
    const region = values["lake-region"] ?? LAKE_REGION;
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
      throw new ConfigError(`--lake-region: not an AWS region, got ${JSON.stringify(region)}`);
    }
    const endpoint =
      values["lake-endpoint"] === undefined
        ? undefined
        : url("lake-endpoint", values["lake-endpoint"]);
    const accessKeyId = env.AWS_ACCESS_KEY_ID ?? "";
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY ?? "";
    if (accessKeyId === "" || secretAccessKey === "") {
      throw new ConfigError(
        "--source lake: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the NEAR Lake buckets are requester-pays: reads are billed to that account)",
      );
    }
    source = {
      kind: "lake",
      bucket,
      region,
      endpoint,
      credentials: {
        accessKeyId,
        secretAccessKey,
        ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      },
      requestsPerSecond,
    };
  }
  const databaseUrl = values["database-url"] ?? env.DATABASE_URL;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError("--database-url / DATABASE_URL: must be a postgres:// URL");
  }
  return {
    command,
    help: values.help ?? false,
    config: {
      network,
      source,
      sourceUrl,
      rpcUrl: url("rpc-url", values["rpc-url"] ?? defaults?.rpc ?? ""),
      contracts: {
        registry: account("registry", values.registry),
        escrow: account("escrow", values.escrow),
        governance: account("governance", values.governance),
      },
      startHeight: int("start-height", values["start-height"], 0, Number.MAX_SAFE_INTEGER),
      reindexFrom: int("reindex-from", values["reindex-from"], 0, Number.MAX_SAFE_INTEGER),
      databaseUrl,
      dataDir: values["data-dir"] ?? DEFAULT_DATA_DIR,
      pgPort: int("pg-port", values["pg-port"], 1, 65535) ?? 54329,
      apiHost: values["api-host"] ?? "127.0.0.1",
      apiPort: int("api-port", values["api-port"], 0, 65535) ?? 8080,
      apiWorkers: int("api-workers", values["api-workers"], 1, 64) ?? 1,
      apiCache: values["api-cache"] ?? true,
      prefetch: int("prefetch", values.prefetch, 1, 10_000) ?? 256,
      fetchConcurrency: int("fetch-concurrency", values["fetch-concurrency"], 1, 1000) ?? 32,
      batchBlocks: int("batch-blocks", values["batch-blocks"], 1, 10_000) ?? 200,
      batchEvents: int("batch-events", values["batch-events"], 1, 1_000_000) ?? 10_000,
      maxLagBlocks: int("max-lag-blocks", values["max-lag-blocks"], 0, 1_000_000) ?? 30,
      logJson: values["log-json"] ?? false,
      logLevel: level as Config["logLevel"],
      json: values.json ?? false,
      sample: int("sample", values.sample, 1, 1_000_000) ?? 50,
      all: values.all ?? false,
    },
  };
}

export const USAGE = `gpu-market indexer

  node indexer/src/cli.ts <command> [flags]

Commands
  run        migrate, then index blocks and serve the query API (one process)
  serve      serve the query API only (another process indexes)
  migrate    apply database migrations and exit
  reconcile  compare the database with the contracts' views; exit 1 on any difference

Flags
  --network localnet|testnet|mainnet   default localnet (sets --source-url and --rpc-url)
  --source neardata|lake   where blocks come from (default neardata)
  --source-url URL      neardata-compatible block source (default per network)
  --source-api-key KEY  neardata API key, sent as a bearer token (or NEARDATA_API_KEY)
  --source-rps N        most block requests a second (neardata.xyz allows 3 without a key)
  --lake-bucket NAME    NEAR Lake bucket (default near-lake-data-<network> for mainnet, testnet)
  --lake-region REGION  its AWS region (default eu-central-1)
  --lake-endpoint URL   an S3-compatible endpoint instead of AWS (path-style requests)
                        NEAR Lake reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN)
  --rpc-url URL         NEAR JSON-RPC, for reconcile (default per network)
  --registry ACCOUNT    --escrow ACCOUNT    --governance ACCOUNT   contracts to index
  --start-height N      first height when the database is empty
  --reindex-from N      rebuild the tables from stored events below N, then index from N
  --database-url URL    PostgreSQL (or DATABASE_URL); without it an embedded PostgreSQL runs
  --data-dir DIR        embedded PostgreSQL data (default indexer/.data/postgres)
  --pg-port N           embedded PostgreSQL port (default 54329)
  --api-host HOST       --api-port N (default 127.0.0.1:8080; 0 = any free port)
  --api-workers N       serve the API from N processes sharing the port (default 1)
  --no-api-cache        compute every answer (default: keep answers until the index moves;
                        turn it off only where something besides the indexer writes the tables)
  --prefetch N          blocks fetched ahead while catching up (default 256)
  --fetch-concurrency N block requests in flight at once (default 32)
  --batch-blocks N      most blocks per transaction while catching up (default 200)
  --batch-events N      most events per transaction while catching up (default 10000)
  --max-lag-blocks N    /ready answers 503 beyond this lag (default 30)
  --sample N | --all    reconcile: records per table to compare (default 50)
  --json                reconcile: print the report as JSON
  --log-json            --log-level debug|info|warn|error
`;
