/** The machines panel: filters (sent to /v1/machines as query parameters) and the table. */
import { h, replace } from "./dom.js";
import { gib, near, parseNear, short } from "./format.js";

/**
 * Reads the filter form into /v1/machines query parameters. An invalid field is marked and
 * left out, with its reason in the field's title.
 * @param {HTMLFormElement} form
 */
export function machineQuery(form) {
  const params = new URLSearchParams();
  const field = (/** @type {string} */ name) =>
    /** @type {HTMLInputElement | HTMLSelectElement} */ (form.elements.namedItem(name));
  const gpu = field("gpu_model").value.trim();
  if (gpu !== "") params.set("gpu_model", gpu);
  const vram = field("min_vram_gib");
  vram.setCustomValidity("");
  if (vram.value.trim() !== "") {
    const gibValue = Number(vram.value);
    if (Number.isInteger(gibValue) && gibValue >= 0 && gibValue <= 10_000) {
      params.set("min_vram_mib", String(gibValue * 1024));
    } else vram.setCustomValidity("a whole number of GiB");
  }
  const price = field("max_price");
  price.setCustomValidity("");
  if (price.value.trim() !== "") {
    const yocto = parseNear(price.value);
    if (yocto === null) price.setCustomValidity("a NEAR amount like 0.5");
    else params.set("max_price", yocto);
  }
  for (const name of ["tee_type", "region", "sort"]) {
    const value = field(name).value;
    if (value !== "") params.set(name, value);
  }
  if (/** @type {HTMLInputElement} */ (field("eligible")).checked) params.set("eligible", "true");
  return params;
}

/** Keeps a <select>'s options in step with the values seen. @param {HTMLSelectElement} select @param {string[]} values */
export function fillOptions(select, values) {
  const current = select.value;
  const wanted = ["", ...values];
  const have = [...select.options].map((o) => o.value);
  if (have.join("\n") === wanted.join("\n")) return;
  replace(
    select,
    h("option", { value: "" }, "any"),
    values.map((v) => h("option", { value: v }, v)),
  );
  select.value = wanted.includes(current) ? current : "";
}

/** @param {any} machine */
function attestation(machine) {
  const state = machine.attestation_state;
  const votes = machine.evidence?.verdicts;
  const detail =
    machine.tee_type === "none-dev"
      ? "dev mode: no TEE evidence is required"
      : `${votes?.approvals ?? 0} approvals, ${votes?.rejections ?? 0} rejections`;
  return h("span", { class: `badge att-${state}`, title: detail }, state);
}

/**
 * Delivered jobs and completion tokens per second, from the API's throughput figures.
 * @param {any} m a row of /v1/machines
 */
export function throughput(m) {
  const t = m.throughput;
  if (!t || t.jobs_delivered === 0) return "no job delivered";
  const jobs = `${t.jobs_delivered} job${t.jobs_delivered === 1 ? "" : "s"}`;
  return t.tokens_per_second === null ? jobs : `${t.tokens_per_second.toFixed(1)} tok/s · ${jobs}`;
}

/**
 * @param {HTMLElement} body the table's <tbody>
 * @param {any[]} machines rows of /v1/machines
 * @param {Map<string, any>} providers by account
 */
export function renderMachines(body, machines, providers) {
  if (machines.length === 0) {
    replace(
      body,
      h("tr", null, h("td", { colspan: 8, class: "muted" }, "No machine matches these filters.")),
    );
    return;
  }
  replace(
    body,
    machines.map((m) => {
      const provider = providers.get(m.provider);
      const gpus = m.hardware.gpus;
      return h(
        "tr",
        { "data-testid": "machine-row", "data-machine-id": m.id, class: m.eligible ? "" : "dim" },
        h("td", { class: "num" }, `#${m.id}`),
        h(
          "td",
          null,
          h("div", null, provider?.name ?? m.provider),
          h("div", { class: "muted small" }, m.provider),
        ),
        h(
          "td",
          null,
          gpus.map((g) =>
            h("div", { class: "gpu" }, h("strong", null, `${g.count}×`), ` ${g.model}`),
          ),
          h(
            "div",
            { class: "muted small" },
            gpus.map((g) => `${gib(g.vram_mib)} · CC ${g.cc_mode}`).join(", "),
          ),
        ),
        h(
          "td",
          { class: "small" },
          `${m.hardware.cpu_cores} cores`,
          h("br"),
          gib(m.hardware.ram_mib),
        ),
        h(
          "td",
          null,
          h("span", { class: `tee tee-${m.tee_type}` }, m.tee_type),
          h("div", { class: "muted small" }, m.region),
        ),
        h(
          "td",
          { class: "num" },
          near(m.price_per_unit, 6),
          h("div", { class: "muted small" }, "NEAR / unit"),
          h("div", { class: "muted small", "data-testid": "throughput" }, throughput(m)),
        ),
        h(
          "td",
          null,
          attestation(m),
          h(
            "div",
            { class: "muted small", title: m.machine_public_key },
            short(m.machine_public_key, 8),
          ),
        ),
        h(
          "td",
          null,
          m.eligible
            ? h("span", { class: "badge ok", "data-testid": "eligible" }, "eligible")
            : h(
                "span",
                { class: "badge no", "data-testid": "eligible" },
                m.status === "active" ? "not eligible" : m.status,
              ),
        ),
      );
    }),
  );
}
