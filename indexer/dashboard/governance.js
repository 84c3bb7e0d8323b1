/** Proposals with live vote tallies, and the governance token's holders. */
import { h, replace } from "./dom.js";
import { units } from "./format.js";
import { proposalStatus } from "./market.js";

/** Percent of `part` in `whole` (u128 strings), as a number for widths. @param {bigint} part @param {bigint} whole */
function percent(part, whole) {
  return whole === 0n ? 0 : Number((part * 10_000n) / whole) / 100;
}

/**
 * @param {HTMLElement} list
 * @param {import("./market.js").Market} market
 * @param {number} height the indexed height the statuses are judged at
 */
export function renderProposals(list, market, height) {
  const proposals = [...market.proposals.values()].sort((a, b) => b.id - a.id);
  if (proposals.length === 0) {
    replace(list, h("li", { class: "muted" }, "No proposal yet."));
    return;
  }
  const { decimals, symbol, totalSupply } = market.token;
  const supply = BigInt(totalSupply);
  replace(
    list,
    proposals.map((p) => {
      const status = proposalStatus(p, height);
      const votesFor = BigInt(p.votes_for);
      const against = BigInt(p.votes_against);
      const abstain = BigInt(p.votes_abstain);
      const scale = supply > 0n ? supply : votesFor + against + abstain;
      const quorumAt = percent(BigInt(p.quorum), scale);
      const remaining =
        status === "active"
          ? `${p.vote_end_height - height} blocks left`
          : status === "pending"
            ? `voting opens at #${p.snapshot_height + 1}`
            : "";
      return h(
        "li",
        { class: "proposal", "data-testid": "proposal", "data-proposal-id": p.id },
        h(
          "div",
          { class: "job-head" },
          h("strong", null, `#${p.id}`),
          h("span", { class: `badge prop-${status}` }, status),
          h("span", { class: "desc" }, p.description),
        ),
        h(
          "div",
          { class: "tally", title: `quorum ${units(p.quorum, decimals)} ${symbol}` },
          h("span", { class: "for", style: { width: `${percent(votesFor, scale)}%` } }),
          h("span", { class: "against", style: { width: `${percent(against, scale)}%` } }),
          h("span", { class: "abstain", style: { width: `${percent(abstain, scale)}%` } }),
          h("i", { class: "quorum", style: { left: `${Math.min(quorumAt, 100)}%` } }),
        ),
        h(
          "div",
          { class: "small" },
          h("span", { class: "c-for" }, `for ${units(p.votes_for, decimals)}`),
          " · ",
          h("span", { class: "c-against" }, `against ${units(p.votes_against, decimals)}`),
          " · ",
          h("span", { class: "muted" }, `abstain ${units(p.votes_abstain, decimals)} ${symbol}`),
          h(
            "span",
            { class: "muted right" },
            `${p.voters ?? 0} voter${p.voters === 1 ? "" : "s"} · ${p.actions.map((/** @type {any} */ a) => a.kind).join(", ")}${remaining ? ` · ${remaining}` : ""}`,
          ),
        ),
      );
    }),
  );
}

/** @param {HTMLElement} list @param {import("./market.js").Market} market */
export function renderHolders(list, market) {
  const { decimals, symbol } = market.token;
  const holders = [...market.balances.entries()]
    .filter(([, v]) => v > 0n)
    .sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0));
  if (holders.length === 0) {
    replace(list, h("li", { class: "muted" }, "No token holder yet."));
    return;
  }
  replace(
    list,
    holders
      .slice(0, 8)
      .map(([account, balance]) =>
        h(
          "li",
          null,
          h("span", null, account),
          h("span", { class: "num" }, `${units(balance.toString(), decimals)} ${symbol}`),
          h(
            "span",
            { class: "muted small num" },
            market.votingPower.has(account)
              ? `votes ${units(market.votingPower.get(account) ?? "0", decimals)}`
              : "not delegated",
          ),
        ),
      ),
  );
}
