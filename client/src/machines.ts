/**
 * Which machine runs the job: the one asked for, or the cheapest eligible machine serving the
 * model. Eligibility comes from the registry's views only (an indexer, when given, merely finds
 * candidates sooner). The registry's keyset fields are hashed again here, so the key the request is
 * encrypted to is the one in the attested keyset.
 */
import type {
  Eligibility,
  Machine,
  ModelEntry,
  Provider,
  TeeType,
} from "@gpu-market/common/src/registry-types.ts";
import { keysetSha256 } from "@gpu-market/protocol";
import type { MarketChain } from "./chain.ts";
import { ClientError, clientError, messageOf } from "./errors.ts";

/** The registry's page size and are_eligible batch limit. */
const PAGE = 100;
const ELIGIBILITY_BATCH = 50;
/** Indexer pages read (cheapest first) before falling back to reading the registry. */
const INDEXER_PAGES = 5;
const HEX32 = /^[0-9a-f]{64}$/;

export interface SelectedMachine {
  machineId: string;
  provider: string;
  /** The provider's endpoint URL, as registered. */
  endpoint: string;
  pricePerUnit: string;
  teeType: TeeType;
  signingKey: string;
  encryptionKey: string;
  keysetSha256: string;
  models: ModelEntry[];
  /** The requested model as the machine lists it. */
  model: ModelEntry;
  machine: Machine;
}

export interface SelectionOptions {
  /** A model name, or the weights sha256 (64 hex) of one. */
  model: string;
  machine?: string;
  maxPricePerUnit?: bigint;
  /** Skip none-dev machines when choosing (they are still accepted when asked for by id). */
  teeOnly?: boolean;
  indexerUrl?: string;
  fetch?: typeof fetch;
  /** Told when the indexer could not be used and the registry is read instead. */
  onFallback?: (reason: string) => void;
}

/** The machine's entry for `wanted` (a name, or a weights sha256), if it serves it. */
export function findModel(models: ModelEntry[] | null, wanted: string): ModelEntry | undefined {
  const byHash = HEX32.test(wanted);
  return (models ?? []).find((m) => (byHash ? m.weights_sha256 === wanted : m.name === wanted));
}

/** Why an eligibility answer does not fit the request, or null when it does. */
export function unfit(e: Eligibility, options: SelectionOptions): string | null {
  if (!e.eligible) return `machine ${e.machine_id} is not eligible: ${e.reason ?? "no reason"}`;
  if (e.keyset_sha256 === null || e.encryption_key === null) {
    return `machine ${e.machine_id} has no attested keyset (encryption key and models)`;
  }
  if (findModel(e.models, options.model) === undefined) {
    const served = (e.models ?? []).map((m) => m.name).join(", ") || "none";
    return `machine ${e.machine_id} does not serve model ${options.model} (serves: ${served})`;
  }
  if (
    options.maxPricePerUnit !== undefined &&
    BigInt(e.price_per_unit ?? "0") > options.maxPricePerUnit
  ) {
    return `machine ${e.machine_id} costs ${e.price_per_unit} per unit, above ${options.maxPricePerUnit}`;
  }
  return null;
}

/** The cheapest fitting answer, ties to the lowest machine id; null when none fits. */
export function cheapest(answers: Eligibility[], options: SelectionOptions): Eligibility | null {
  let best: Eligibility | null = null;
  for (const e of answers) {
    if (unfit(e, options) !== null) continue;
    if (best === null) {
      best = e;
      continue;
    }
    const price = BigInt(e.price_per_unit ?? "0");
    const bestPrice = BigInt(best.price_per_unit ?? "0");
    if (
      price < bestPrice ||
      (price === bestPrice && BigInt(e.machine_id) < BigInt(best.machine_id))
    ) {
      best = e;
    }
  }
  return best;
}

/** The registry's keyset fields must hash to its keyset_sha256 (the keyset the TEE attested). */
export function checkKeyset(registry: string, e: Eligibility): string {
  if (
    e.provider === null ||
    e.machine_public_key === null ||
    e.encryption_key === null ||
    e.models === null ||
    e.keyset_sha256 === null
  ) {
    return clientError("keyset_mismatch", `machine ${e.machine_id}: the registry has no keyset`);
  }
  let digest: string;
  try {
    digest = keysetSha256({
      account: e.provider,
      registry,
      signing_key: e.machine_public_key,
      encryption_key: e.encryption_key,
      models: e.models,
    });
  } catch (error) {
    return clientError(
      "keyset_mismatch",
      `machine ${e.machine_id}: the registry's keyset is malformed (${messageOf(error)})`,
    );
  }
  if (digest !== e.keyset_sha256) {
    clientError(
      "keyset_mismatch",
      `machine ${e.machine_id}: the registry's keys and models hash to ${digest}, not to its keyset_sha256 ${e.keyset_sha256}`,
    );
  }
  return digest;
}

async function eligibilities(
  chain: MarketChain,
  registry: string,
  ids: string[],
): Promise<Eligibility[]> {
  const out: Eligibility[] = [];
  for (let i = 0; i < ids.length; i += ELIGIBILITY_BATCH) {
    const batch = ids.slice(i, i + ELIGIBILITY_BATCH);
    out.push(
      ...(await chain.view<Eligibility[]>(registry, "are_eligible", { machine_ids: batch })),
    );
  }
  return out;
}

/** Every active machine of the registry, page by page (unfiltered pages end short only at the end). */
async function scanRegistry(
  chain: MarketChain,
  registry: string,
  options: SelectionOptions,
): Promise<Eligibility | null> {
  let best: Eligibility | null = null;
  for (let from = 0; ; from += PAGE) {
    const page = await chain.view<Machine[]>(registry, "machines", {
      from_index: from,
      limit: PAGE,
    });
    const ids = page
      .filter((m) => m.status === "active" && !(options.teeOnly && m.tee_type === "none-dev"))
      .map((m) => m.id);
    if (ids.length > 0) {
      best = cheapest(
        [...(best === null ? [] : [best]), ...(await eligibilities(chain, registry, ids))],
        options,
      );
    }
    if (page.length < PAGE) return best;
  }
}

interface IndexerPage {
  data: { id: string }[];
  next_cursor: string | null;
}

/** Candidates from the indexer, cheapest first, confirmed by the registry page by page. */
async function searchIndexer(
  chain: MarketChain,
  registry: string,
  options: SelectionOptions & { indexerUrl: string },
): Promise<Eligibility | null> {
  const doFetch = options.fetch ?? globalThis.fetch;
  let cursor: string | null = null;
  for (let page = 0; page < INDEXER_PAGES; page++) {
    const url = new URL("/v1/machines", options.indexerUrl);
    url.searchParams.set("eligible", "true");
    url.searchParams.set("status", "active");
    url.searchParams.set("sort", "price");
    url.searchParams.set("limit", "100");
    if (options.maxPricePerUnit !== undefined) {
      url.searchParams.set("max_price", options.maxPricePerUnit.toString());
    }
    if (options.teeOnly) url.searchParams.set("tee_type", "tdx");
    if (cursor !== null) url.searchParams.set("cursor", cursor);
    const response = await doFetch(url);
    if (!response.ok) throw new Error(`${url.pathname}: HTTP ${response.status}`);
    const body = (await response.json()) as IndexerPage;
    if (!Array.isArray(body?.data)) throw new Error(`${url.pathname}: not a machine listing`);
    const ids = body.data.map((m) => String(m.id));
    const best =
      ids.length === 0 ? null : cheapest(await eligibilities(chain, registry, ids), options);
    if (best !== null) return best;
    if (body.next_cursor === null) return null;
    cursor = body.next_cursor;
  }
  return null;
}

async function choose(
  chain: MarketChain,
  registry: string,
  options: SelectionOptions,
): Promise<Eligibility> {
  if (options.machine !== undefined) {
    if (!/^\d{1,20}$/.test(options.machine)) {
      clientError("bad_input", `machine: "${options.machine}" is not a machine id`);
    }
    const e = await chain.view<Eligibility>(registry, "is_eligible", {
      machine_id: options.machine,
    });
    const reason = unfit(e, options);
    if (reason !== null) clientError("machine_ineligible", reason);
    return e;
  }
  if (options.indexerUrl !== undefined) {
    try {
      const found = await searchIndexer(chain, registry, {
        ...options,
        indexerUrl: options.indexerUrl,
      });
      if (found !== null) return found;
      options.onFallback?.("the indexer knows no eligible machine serving the model");
    } catch (error) {
      if (error instanceof ClientError) throw error;
      options.onFallback?.(`the indexer at ${options.indexerUrl} failed: ${messageOf(error)}`);
    }
  }
  const found = await scanRegistry(chain, registry, options);
  if (found === null) {
    const price =
      options.maxPricePerUnit === undefined ? "" : ` at most ${options.maxPricePerUnit} per unit`;
    clientError("no_machine", `no eligible machine serves model ${options.model}${price}`);
  }
  return found;
}

/** Chooses the machine, checks its keyset, and reads its record and its provider's endpoint. */
export async function selectMachine(
  chain: MarketChain,
  registry: string,
  options: SelectionOptions,
): Promise<SelectedMachine> {
  const e = await choose(chain, registry, options);
  const digest = checkKeyset(registry, e);
  const [machine, provider] = await Promise.all([
    chain.view<Machine | null>(registry, "machine", { machine_id: e.machine_id }),
    chain.view<Provider | null>(registry, "provider", { account_id: e.provider }),
  ]);
  if (machine === null || provider === null) {
    return clientError("machine_ineligible", `machine ${e.machine_id} or its provider vanished`);
  }
  return {
    machineId: e.machine_id,
    provider: provider.account_id,
    endpoint: provider.endpoint,
    pricePerUnit: e.price_per_unit ?? "0",
    teeType: machine.tee_type,
    signingKey: e.machine_public_key ?? "",
    encryptionKey: e.encryption_key ?? "",
    keysetSha256: digest,
    models: e.models ?? [],
    model: findModel(e.models, options.model) as ModelEntry,
    machine,
  };
}
