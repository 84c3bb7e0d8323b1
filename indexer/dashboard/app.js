/**
 * The dashboard's main loop: polls the query API every second (health, new events since the
 * last one seen, and, when the indexed height moves, stats, providers and machines) and redraws.
 * The page never reloads: a job created on chain appears as soon as its block is indexed.
 */
import { getAll, getJson } from "./api.js";
import { barChart, dotPlot, lineChart } from "./charts.js";
import { h, replace } from "./dom.js";
import { near, nearNumber, nsToMs } from "./format.js";
import { renderHolders, renderProposals } from "./governance.js";
import { renderJobs } from "./jobs.js";
import { fillOptions, machineQuery, renderMachines } from "./machines.js";
import { Market } from "./market.js";
import { renderActivity, renderProviders } from "./providers.js";

const POLL_MS = 1000;
const LAG_SAMPLES = 300;

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const market = new Market();
const state = {
  /** @type {any} */ health: null,
  /** @type {any} */ stats: null,
  /** @type {string | null} timestamp (ns) of the last indexed block */ indexedAt: null,
  /** @type {any[]} rows matching the filters */ machines: [],
  /** @type {Map<string, any>} every machine, by id */ allMachines: new Map(),
  /** @type {Map<string, any>} */ providers: new Map(),
  /** @type {{ x: number, y: number }[]} */ lagBlocks: [],
  heightSeen: /** @type {number | null} */ (-1),
  machinesShown: "",
};

async function refreshMachines(force = false) {
  const form = /** @type {HTMLFormElement} */ ($("machine-filters"));
  const query = machineQuery(form);
  const key = `${query}@${state.heightSeen}`;
  if (!force && key === state.machinesShown) return;
  state.machines = await getAll("/v1/machines", query, 1000);
  state.machinesShown = key;
  renderMachines($("machine-rows"), state.machines, state.providers);
  $("machine-count").textContent = `${state.machines.length} shown`;
}

async function refreshMarket() {
  const [stats, providers, machines] = await Promise.all([
    getJson("/v1/stats"),
    getAll("/v1/providers", new URLSearchParams(), 1000),
    getAll("/v1/machines", new URLSearchParams(), 1000),
  ]);
  state.stats = stats.data;
  state.indexedAt = stats.as_of.block_timestamp;
  state.providers = new Map(providers.map((p) => [p.account_id, p]));
  state.allMachines = new Map(machines.map((m) => [m.id, m]));
}

async function pullEvents() {
  const params = new URLSearchParams();
  if (market.last !== null) params.set("from_height", String(market.last.height));
  const events = await getAll("/v1/events", params, 100_000);
  for (const event of events) market.apply(event);
}

async function tick() {
  const health = await getJson("/health");
  state.health = health;
  if (health.lag_blocks !== null) {
    state.lagBlocks.push({ x: Date.now(), y: health.lag_blocks });
    if (state.lagBlocks.length > LAG_SAMPLES) state.lagBlocks.shift();
  }
  await pullEvents();
  if (health.indexed_height !== state.heightSeen) {
    await refreshMarket();
    state.heightSeen = health.indexed_height;
  }
  const form = /** @type {HTMLFormElement} */ ($("machine-filters"));
  fillOptions(
    /** @type {HTMLSelectElement} */ (form.elements.namedItem("region")),
    [...new Set([...state.providers.values()].map((p) => p.region))].sort(),
  );
  await refreshMachines();
  render();
}

function renderStatus() {
  const health = state.health;
  const pill = $("status");
  const level = health.database !== "ok" ? "bad" : health.ready ? "ok" : "warn";
  pill.className = `pill ${level}`;
  const lag =
    health.lag_blocks === null
      ? ""
      : ` · lag ${health.lag_blocks} block${health.lag_blocks === 1 ? "" : "s"}`;
  pill.textContent =
    health.indexed_height === null
      ? "waiting for the first block"
      : `indexed #${health.indexed_height}${lag}`;
  pill.title = health.reason ?? "ready";
  $("updated").textContent = `updated ${new Date().toLocaleTimeString("en-GB", { hour12: false })}`;
  $("error").hidden = true;
}

function renderSummary() {
  const stats = state.stats ?? {};
  const machines = [...state.allMachines.values()];
  const jobs = [...market.jobs.values()];
  const open = jobs.filter((j) => !["settled", "resolved", "refunded"].includes(j.status));
  const escrowed = open
    .filter((j) => j.asset === "NEAR")
    .reduce((sum, j) => sum + BigInt(j.max_amount), 0n);
  // Sessions not settled or resolved yet hold their whole budget (from /v1/stats).
  const sessions = stats.sessions ?? {};
  const openSessions = ["open", "closing", "disputed"].reduce(
    (/** @type {number} */ sum, status) => sum + (sessions[status] ?? 0),
    0,
  );
  const sessionBudget =
    (stats.session_escrow_by_asset ?? []).find((/** @type {any} */ e) => e.asset === "NEAR")
      ?.budget ?? "0";
  const height = state.health?.indexed_height ?? 0;
  const activeProposals = [...market.proposals.values()].filter(
    (p) => !p.canceled_by && !p.executed && height <= p.vote_end_height,
  ).length;
  const gpus = (stats.gpus_by_model ?? []).reduce(
    (/** @type {number} */ sum, /** @type {any} */ g) => sum + g.gpus,
    0,
  );
  const card = (
    /** @type {string} */ label,
    /** @type {string | number} */ value,
    /** @type {string} */ note,
    /** @type {string} */ id,
  ) =>
    h(
      "div",
      { class: "card", "data-testid": id },
      h("div", { class: "card-label" }, label),
      h("div", { class: "card-value" }, String(value)),
      h("div", { class: "muted small" }, note),
    );
  replace(
    $("summary"),
    card(
      "Providers",
      stats.providers?.active ?? 0,
      `${state.providers.size} registered`,
      "card-providers",
    ),
    card(
      "Eligible machines",
      machines.filter((m) => m.eligible).length,
      `${machines.length} listed`,
      "card-machines",
    ),
    card("GPUs", gpus, `${(stats.gpus_by_model ?? []).length} models`, "card-gpus"),
    card("Open jobs", open.length, `${jobs.length} in all`, "card-jobs"),
    card("Escrowed", near(escrowed.toString(), 2), "NEAR in open jobs", "card-escrow"),
    card(
      "Open sessions",
      openSessions,
      `${near(sessionBudget, 2)} NEAR budget escrowed`,
      "card-sessions",
    ),
    card("Proposals voting", activeProposals, `${market.proposals.size} in all`, "card-proposals"),
  );
}

function renderCharts() {
  const stats = state.stats ?? {};
  replace(
    $("chart-supply"),
    barChart(
      (stats.gpus_by_model ?? []).map((/** @type {any} */ g) => ({
        label: g.model,
        value: g.gpus,
        note: `${g.machines} machine${g.machines === 1 ? "" : "s"}`,
      })),
      { empty: "No machine listed yet." },
    ),
  );
  /** @type {Map<string, number[]>} */
  const prices = new Map();
  for (const m of state.allMachines.values()) {
    const model = m.hardware.gpus[0]?.model ?? "no GPU";
    prices.set(model, [...(prices.get(model) ?? []), nearNumber(m.price_per_unit)]);
  }
  replace(
    $("chart-prices"),
    dotPlot(
      [...prices.entries()].sort().map(([label, values]) => ({ label, values })),
      {
        format: (n) => (n === 0 ? "0" : n < 0.01 ? n.toPrecision(2) : n.toFixed(2)),
        empty: "No machine listed yet.",
      },
    ),
  );
  const jobs = [...market.jobs.values()];
  const now =
    state.health?.indexed_height === null
      ? Date.now()
      : Date.now() - (state.health?.lag_seconds ?? 0) * 1000;
  const cumulative = (/** @type {number[]} */ times) => {
    const sorted = times.sort((a, b) => a - b);
    const points = sorted.map((x, i) => ({ x, y: i + 1 }));
    if (points.length > 0)
      points.push({ x: Math.max(now, sorted[sorted.length - 1] ?? 0), y: points.length });
    return points;
  };
  replace(
    $("chart-jobs"),
    lineChart(
      [
        { name: "requested", points: cumulative(jobs.map((j) => nsToMs(j.created_at))) },
        {
          name: "delivered",
          points: cumulative(jobs.filter((j) => j.delivered_at).map((j) => nsToMs(j.delivered_at))),
        },
        {
          name: "closed",
          points: cumulative(jobs.filter((j) => j.closed_at).map((j) => nsToMs(j.closed_at))),
        },
      ],
      { step: true, empty: "No job yet." },
    ),
  );
  replace(
    $("chart-lag"),
    lineChart(
      [{ name: "blocks behind the final head", points: state.lagBlocks, color: "#8e4ec6" }],
      {
        empty: "Measuring…",
        minTop: 5,
      },
    ),
  );
}

function render() {
  renderStatus();
  renderSummary();
  renderCharts();
  const jobFilter = /** @type {HTMLSelectElement} */ ($("job-filter")).value;
  renderJobs($("job-list"), market.jobs, jobFilter, state.allMachines);
  renderProposals($("proposal-list"), market, state.health?.indexed_height ?? 0);
  renderHolders($("holder-list"), market);
  renderProviders($("provider-list"), [...state.providers.values()]);
  renderActivity($("activity-list"), market.feed);
}

/** @param {unknown} error */
function showError(error) {
  const banner = $("error");
  banner.hidden = false;
  banner.textContent = `The API does not answer (${error instanceof Error ? error.message : String(error)}); retrying…`;
  $("status").className = "pill bad";
}

async function loop() {
  try {
    await tick();
  } catch (error) {
    showError(error);
  }
  setTimeout(loop, POLL_MS);
}

let filterTimer = 0;
$("machine-filters").addEventListener("input", () => {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => refreshMachines().catch(showError), 150);
});
$("machine-filters").addEventListener("submit", (event) => event.preventDefault());
$("job-filter").addEventListener("change", () => {
  if (state.health !== null) render();
});

void loop();
