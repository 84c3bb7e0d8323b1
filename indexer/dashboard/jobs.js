/** The jobs panel: each job with its timeline, from its events. */
import { h, replace } from "./dom.js";
import { after, clock, compareIds, near, short } from "./format.js";

const CLOSED = new Set(["settled", "resolved", "refunded"]);

/**
 * The steps of a job's life so far, and the ones still ahead.
 * @param {any} job
 * @returns {{ name: string, at: string | null, state: "done" | "now" | "todo" | "bad" }[]}
 */
export function timeline(job) {
  /** @type {{ name: string, at: string | null, state: "done" | "now" | "todo" | "bad" }[]} */
  const steps = [{ name: "requested", at: job.created_at, state: "done" }];
  if (job.status === "refunded") {
    steps.push({
      name: job.refund_reason?.replaceAll("_", " ") ?? "refunded",
      at: job.closed_at,
      state: "bad",
    });
    return steps;
  }
  steps.push({ name: "accepted", at: job.accepted_at, state: job.accepted_at ? "done" : "todo" });
  steps.push({
    name: "delivered",
    at: job.delivered_at,
    state: job.delivered_at ? "done" : "todo",
  });
  if (job.disputed_at) steps.push({ name: "disputed", at: job.disputed_at, state: "bad" });
  const end = job.status === "resolved" ? "resolved" : "settled";
  steps.push({ name: end, at: job.closed_at, state: job.closed_at ? "done" : "todo" });
  const current = steps.findLastIndex((step) => step.state !== "todo");
  const last = steps[current];
  if (last && !CLOSED.has(job.status) && last.state === "done") last.state = "now";
  return steps;
}

/**
 * Completion tokens per second between acceptance and delivery, or null before a receipt.
 * @param {any} job
 * @returns {number | null}
 */
export function tokensPerSecond(job) {
  if (job.completion_tokens == null || !job.accepted_at || !job.delivered_at) return null;
  const ns = BigInt(job.delivered_at) - BigInt(job.accepted_at);
  if (ns <= 0n) return null;
  return (Number(job.completion_tokens) * 1e9) / Number(ns);
}

/**
 * What the job asked for and got: the model (its name once delivered), whether the input was
 * encrypted to the machine's attested keyset, and the receipt's token counts.
 * @param {any} job
 */
export function inferenceLine(job) {
  const parts = [
    job.model_name
      ? `model ${job.model_name} (${short(job.model_hash, 6)})`
      : `model ${short(job.model_hash, 8)}`,
    job.keyset_sha256
      ? `input encrypted to keyset ${short(job.keyset_sha256, 6)}`
      : `input ${short(job.input_hash, 8)} (no keyset)`,
  ];
  if (job.prompt_tokens != null && job.completion_tokens != null) {
    const rate = tokensPerSecond(job);
    parts.push(
      `${job.prompt_tokens} prompt + ${job.completion_tokens} completion tokens` +
        (rate === null ? "" : ` · ${rate.toFixed(1)} tok/s`),
    );
  } else if (job.usage != null) {
    parts.push(`usage ${job.usage}`);
  }
  if (job.failure_code) parts.push(`failed: ${job.failure_code.replaceAll("_", " ")}`);
  if (job.result_hash) parts.push(`result ${short(job.result_hash, 8)}`);
  return parts.join(" · ");
}

/** @param {any} job */
function money(job) {
  const asset = job.asset === "NEAR" ? "NEAR" : job.asset;
  const amount = (/** @type {string | null} */ v) => (job.asset === "NEAR" ? near(v) : (v ?? "–"));
  if (job.provider_payout !== null) {
    return `paid ${amount(job.provider_payout)} ${asset} · fee ${amount(job.fee)} · refund ${amount(job.client_refund)}`;
  }
  if (job.amount_due !== null)
    return `due ${amount(job.amount_due)} of ${amount(job.max_amount)} ${asset}`;
  return `escrowed ${amount(job.max_amount)} ${asset}`;
}

/**
 * @param {HTMLElement} list
 * @param {Map<string, any>} jobs
 * @param {string} filter "" | "open" | "closed"
 * @param {Map<string, any>} machines by id, for the GPU model
 */
export function renderJobs(list, jobs, filter, machines) {
  const shown = [...jobs.values()]
    .filter((j) => filter === "" || (filter === "closed") === CLOSED.has(j.status))
    .sort((a, b) => compareIds(b.id, a.id))
    .slice(0, 50);
  if (shown.length === 0) {
    replace(
      list,
      h("li", { class: "muted" }, jobs.size === 0 ? "No job yet." : "No job in this state."),
    );
    return;
  }
  replace(
    list,
    shown.map((job) => {
      const gpu = machines.get(job.machine_id)?.hardware.gpus[0]?.model;
      return h(
        "li",
        { class: "job", "data-testid": "job", "data-job-id": job.id, "data-status": job.status },
        h(
          "div",
          { class: "job-head" },
          h("strong", null, `Job #${job.id}`),
          h("span", { class: `badge job-${job.status}` }, job.status),
          h(
            "span",
            { class: "muted small" },
            `${job.client} → ${job.provider} · machine #${job.machine_id}${gpu ? ` (${gpu})` : ""}`,
          ),
          h("span", { class: "small right" }, money(job)),
        ),
        h(
          "ol",
          { class: "timeline" },
          timeline(job).map((step) =>
            h(
              "li",
              { class: `step ${step.state}` },
              h("span", { class: "dot" }),
              h("span", { class: "step-name" }, step.name),
              h(
                "span",
                { class: "muted small" },
                step.at
                  ? `${clock(step.at)} ${step.name === "requested" ? "" : after(job.created_at, step.at)}`
                  : "…",
              ),
            ),
          ),
        ),
        h("div", { class: "muted small", "data-testid": "job-inference" }, inferenceLine(job)),
      );
    }),
  );
}
