/** Providers and the activity feed. */
import { h, replace } from "./dom.js";
import { clock, near } from "./format.js";

/** @param {HTMLElement} list @param {any[]} providers rows of /v1/providers */
export function renderProviders(list, providers) {
  if (providers.length === 0) {
    replace(list, h("li", { class: "muted" }, "No provider yet."));
    return;
  }
  replace(
    list,
    providers.map((p) =>
      h(
        "li",
        { "data-testid": "provider" },
        h(
          "div",
          null,
          h("strong", null, p.name),
          " ",
          h("span", { class: `badge prov-${p.status}` }, p.status),
        ),
        h("div", { class: "muted small" }, `${p.account_id} · ${p.region}`),
        h(
          "div",
          { class: "small num" },
          `${p.machine_count} machine${p.machine_count === 1 ? "" : "s"}`,
          h("br"),
          `bond ${near(p.bond, 2)} NEAR`,
        ),
      ),
    ),
  );
}

/** One line describing an event. @param {any} e */
function describe(e) {
  const item = Array.isArray(e.data) ? e.data[0] : null;
  if (item === null || typeof item !== "object") return "";
  if (typeof item.id === "string" && typeof item.status === "string" && item.client)
    return `job #${item.id} (${item.client})`;
  if (item.account_id && item.name) return `${item.name} (${item.account_id})`;
  if (item.provider && item.id !== undefined) return `machine #${item.id} of ${item.provider}`;
  if (item.machine_id !== undefined && item.verifier)
    return `machine #${item.machine_id} by ${item.verifier}: ${item.approve ? "approve" : "reject"}`;
  if (item.proposal_id !== undefined)
    return `proposal #${item.proposal_id}: ${item.voter} votes ${item.support}`;
  if (typeof item.id === "number") return `proposal #${item.id}`;
  if (item.owner_id && item.amount) return `${item.owner_id}`;
  if (item.new_owner_id) return `${item.old_owner_id} → ${item.new_owner_id}`;
  return "";
}

/** @param {HTMLElement} list @param {any[]} feed newest first */
export function renderActivity(list, feed) {
  if (feed.length === 0) {
    replace(list, h("li", { class: "muted" }, "Nothing indexed yet."));
    return;
  }
  replace(
    list,
    feed.map((e) =>
      h(
        "li",
        null,
        h("span", { class: "muted small num" }, `#${e.block_height}`),
        h("span", { class: `event ev-${e.contract.split(".")[0]}` }, e.event ?? "?"),
        h("span", { class: "small" }, describe(e)),
        h("span", { class: "muted small right num" }, clock(e.block_timestamp)),
      ),
    ),
  );
}
