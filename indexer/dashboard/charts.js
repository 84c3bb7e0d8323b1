/**
 * Inline SVG charts, drawn from plain numbers (no library, nothing fetched from a CDN). Each
 * function returns an <svg> that scales to its container's width.
 */
import { h, s } from "./dom.js";

export const PALETTE = [
  "#4f7cff",
  "#22b07d",
  "#f5a524",
  "#e5484d",
  "#8e4ec6",
  "#12a5b8",
  "#d6409f",
];

const WIDTH = 480;

/** @param {string} text */
function empty(text) {
  return h("p", { class: "chart-empty" }, text);
}

/** A round-ish tick step for a range. @param {number} max */
function niceMax(max) {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * power >= max) ?? 10;
  return step * power;
}

/**
 * Horizontal bars, one per item.
 * @param {{ label: string, value: number, note?: string }[]} items
 * @param {{ format?: (n: number) => string, empty?: string }} [options]
 */
export function barChart(items, options = {}) {
  if (items.length === 0) return empty(options.empty ?? "nothing yet");
  const format = options.format ?? String;
  const row = 28;
  const labelWidth = 170;
  const max = Math.max(...items.map((i) => i.value), 0);
  const barSpace = WIDTH - labelWidth - 120;
  const svg = s("svg", {
    viewBox: `0 0 ${WIDTH} ${items.length * row + 4}`,
    role: "img",
    class: "chart",
  });
  items.forEach((item, index) => {
    const y = index * row + 4;
    const width = max === 0 ? 0 : Math.max(2, (item.value / max) * barSpace);
    svg.append(
      s(
        "text",
        { x: labelWidth - 8, y: y + 15, "text-anchor": "end", class: "label" },
        truncate(item.label, 26),
      ),
      s(
        "rect",
        {
          x: labelWidth,
          y,
          width,
          height: row - 8,
          rx: 4,
          fill: PALETTE[index % PALETTE.length] ?? "#888",
        },
        s("title", {}, `${item.label}: ${format(item.value)}${item.note ? ` (${item.note})` : ""}`),
      ),
      s(
        "text",
        { x: labelWidth + width + 6, y: y + 15, class: "value" },
        format(item.value) + (item.note ? ` · ${item.note}` : ""),
      ),
    );
  });
  return svg;
}

/**
 * One row per group with a dot per value on a shared linear scale (e.g. machine prices by GPU
 * model), and the group's range as a line.
 * @param {{ label: string, values: number[] }[]} groups
 * @param {{ format?: (n: number) => string, empty?: string }} [options]
 */
export function dotPlot(groups, options = {}) {
  const all = groups.flatMap((g) => g.values);
  if (all.length === 0) return empty(options.empty ?? "nothing yet");
  const format = options.format ?? String;
  const row = 30;
  const labelWidth = 170;
  const right = WIDTH - 20;
  const max = niceMax(Math.max(...all));
  const x = (/** @type {number} */ v) => labelWidth + (v / max) * (right - labelWidth);
  const height = groups.length * row + 24;
  const svg = s("svg", { viewBox: `0 0 ${WIDTH} ${height}`, role: "img", class: "chart" });
  for (const tick of [0, max / 2, max]) {
    svg.append(
      s("line", { x1: x(tick), x2: x(tick), y1: 0, y2: height - 18, class: "grid" }),
      s(
        "text",
        { x: x(tick), y: height - 4, "text-anchor": "middle", class: "axis" },
        format(tick),
      ),
    );
  }
  groups.forEach((group, index) => {
    const y = index * row + 16;
    const color = PALETTE[index % PALETTE.length] ?? "#888";
    const low = Math.min(...group.values);
    const high = Math.max(...group.values);
    svg.append(
      s(
        "text",
        { x: labelWidth - 8, y: y + 4, "text-anchor": "end", class: "label" },
        truncate(group.label, 26),
      ),
      s("line", {
        x1: x(low),
        x2: x(high),
        y1: y,
        y2: y,
        stroke: color,
        "stroke-width": 3,
        "stroke-opacity": 0.35,
      }),
    );
    for (const value of group.values) {
      svg.append(
        s(
          "circle",
          { cx: x(value), cy: y, r: 5, fill: color, "fill-opacity": 0.8 },
          s("title", {}, `${group.label}: ${format(value)}`),
        ),
      );
    }
  });
  return svg;
}

/**
 * Lines over time (x in ms since the epoch), drawn as steps when `step` is set (counts).
 * @param {{ name: string, color?: string, points: { x: number, y: number }[] }[]} series
 * @param {{ format?: (n: number) => string, step?: boolean, empty?: string, minTop?: number }} [options]
 */
export function lineChart(series, options = {}) {
  const points = series.flatMap((line) => line.points);
  if (points.length < 2) return empty(options.empty ?? "not enough data yet");
  const format = options.format ?? String;
  const height = 170;
  const left = 44;
  const bottom = height - 22;
  const top = 10;
  const right = WIDTH - 10;
  const minX = Math.min(...points.map((p) => p.x));
  const maxX = Math.max(...points.map((p) => p.x), minX + 1);
  const maxY = niceMax(Math.max(options.minTop ?? 0, ...points.map((p) => p.y)));
  const x = (/** @type {number} */ v) => left + ((v - minX) / (maxX - minX)) * (right - left);
  const y = (/** @type {number} */ v) => bottom - (v / maxY) * (bottom - top);
  const svg = s("svg", { viewBox: `0 0 ${WIDTH} ${height}`, role: "img", class: "chart" });
  for (const tick of [0, maxY / 2, maxY]) {
    svg.append(
      s("line", { x1: left, x2: right, y1: y(tick), y2: y(tick), class: "grid" }),
      s("text", { x: left - 6, y: y(tick) + 4, "text-anchor": "end", class: "axis" }, format(tick)),
    );
  }
  const time = (/** @type {number} */ ms) =>
    new Date(ms).toLocaleTimeString("en-GB", { hour12: false });
  svg.append(
    s("text", { x: left, y: height - 4, class: "axis" }, time(minX)),
    s("text", { x: right, y: height - 4, "text-anchor": "end", class: "axis" }, time(maxX)),
  );
  series.forEach((line, index) => {
    if (line.points.length === 0) return;
    const color = line.color ?? PALETTE[index % PALETTE.length] ?? "#888";
    let path = "";
    line.points.forEach((p, i) => {
      if (i === 0) path += `M${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`;
      else if (options.step) path += `H${x(p.x).toFixed(1)}V${y(p.y).toFixed(1)}`;
      else path += `L${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`;
    });
    const last = line.points[line.points.length - 1];
    if (options.step && last) path += `H${right}`;
    svg.append(
      s("path", {
        d: path,
        fill: "none",
        stroke: color,
        "stroke-width": 2.5,
        "stroke-linejoin": "round",
      }),
    );
  });
  const legend = h(
    "div",
    { class: "legend" },
    series.map((line, index) =>
      h(
        "span",
        null,
        h("i", { style: { background: line.color ?? PALETTE[index % PALETTE.length] } }),
        line.name,
      ),
    ),
  );
  return h("div", null, svg, legend);
}

/** @param {string} text @param {number} length */
function truncate(text, length) {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
