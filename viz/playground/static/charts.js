// The playground's charts (SVG): losses per epoch with the live edits marked and a
// chosen earlier run overlaid, update/weight ratios with the reason a ratio cannot be drawn,
// activation histograms. They draw what a frame says; they compute no maths.

export const SVGNS = "http://www.w3.org/2000/svg";
export const LAYER_COLOURS = ["#2563eb", "#f59e0b", "#10b981", "#d946ef", "#ef4444", "#0ea5e9", "#84cc16", "#64748b", "#a855f7"];

export function el(tag, attrs, parent) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

export function text(parent, x, y, s, attrs) {
  const t = el("text", Object.assign({ x, y }, attrs || {}), parent);
  t.textContent = s;
  return t;
}

// a number for people: 4 significant digits, never "-0" (a zero is a zero)
export function fmt(x, digits) {
  if (x === null || x === undefined) return "n/a";
  const v = Number(x);
  if (v === 0) return "0";
  return v.toPrecision(digits || 4);
}

function marker(svg, x, top, bottom, label, attrs, labelAttrs) {
  el("line", Object.assign({ x1: x, y1: top, x2: x, y2: bottom, "stroke-dasharray": "3 2" }, attrs), svg);
  // right of the line in the chart's left half, left of it (anchored at its end) in the
  // right half: the label stays inside the chart whatever its length
  const W = +svg.getAttribute("width");
  const right = x < W / 2;
  return text(svg, right ? x + 3 : x - 3, labelAttrs.y, label, Object.assign({ "text-anchor": right ? "start" : "end" }, labelAttrs));
}

// series: [{values, colour, label, dash}]; opts: {log, guide, marker, marks, ymin, ymax, stride}
export function chart(svg, series, opts) {
  svg.innerHTML = "";
  const W = +svg.getAttribute("width"), H = +svg.getAttribute("height");
  const L = 44, R = 8, T = 8, B = 20;
  const all = series.flatMap((s) => s.values).filter((v) => v !== null && isFinite(v) && (!opts.log || v > 0));
  if (!all.length) {
    text(svg, L, H / 2, opts.empty || "press play or step", { class: "empty" });
    return;
  }
  const f = opts.log ? Math.log10 : (v) => v;
  let lo = opts.ymin !== undefined ? opts.ymin : Math.min(...all.map(f));
  let hi = opts.ymax !== undefined ? opts.ymax : Math.max(...all.map(f));
  if (!opts.log) lo = Math.min(0, lo);
  if (hi - lo < 1e-12) hi = lo + 1;
  const stride = opts.stride || 1; // point i is at x = i·stride (a long history, thinned)
  const n = Math.max(2, ...series.map((s) => s.values.length * (s.stride || stride)));
  const X = (i) => L + ((W - L - R) * i) / (n - 1);
  const Y = (v) => T + (H - T - B) * (1 - (Math.min(hi, Math.max(lo, f(v))) - lo) / (hi - lo));
  el("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#9ca3af" }, svg);
  el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#9ca3af" }, svg);
  const tick = (v) => (opts.log ? "1e" + Math.round(v) : fmt(v, 2));
  text(svg, 2, T + 8, tick(hi));
  text(svg, 2, H - B, tick(lo));
  text(svg, W - R, H - 6, opts.xlabel || "", { "text-anchor": "end" });
  if (opts.guide !== undefined) {
    const y = Y(opts.guide);
    el("line", { x1: L, y1: y, x2: W - R, y2: y, stroke: "#6b7280", "stroke-dasharray": "4 3" }, svg);
    text(svg, W - R - 2, y - 3, opts.guideLabel, { "text-anchor": "end", fill: "#374151" });
  }
  (opts.notes || []).forEach((note, k) => text(svg, W - R, T + 10 + 12 * k, note, { "text-anchor": "end", fill: "#b91c1c", class: "note" }));
  (opts.marks || []).forEach((m, k) => {
    const t = marker(svg, X(m.at), T, H - B, "✎ " + m.label, { stroke: "#7c3aed", class: "edit-mark" }, { y: H - B - 16 - 11 * (k % 3), fill: "#6d28d9", class: "edit-label" });
    el("title", {}, t).textContent = m.title;
  });
  if (opts.marker !== undefined && opts.marker !== null) {
    marker(svg, X(opts.marker), T, H - B, opts.markerLabel, { stroke: "#10b981", id: opts.markerId || "" }, {
      y: T + 10, fill: "#047857", id: opts.markerId ? opts.markerId + "-label" : "",
    });
  }
  let legend = L + 6; // each label after the one before (names differ in length)
  series.forEach((s) => {
    const step = s.stride || stride;
    const pts = s.values.map((v, i) => (v === null || !isFinite(v) || (opts.log && v <= 0) ? null : `${X(i * step)},${Y(v)}`)).filter(Boolean);
    el("polyline", { points: pts.join(" "), fill: "none", stroke: s.colour, "stroke-width": 1.5, "stroke-dasharray": s.dash || "", class: s.cls || "" }, svg);
    text(svg, legend, H - B - 4, s.label, { fill: s.colour });
    legend += 5.5 * s.label.length + 10;
  });
}

export function drawLoss(svg, s, previous) {
  // epoch e (1-based) is at x = e - 1; a thinned history keeps every stride-th epoch
  const series = [
    { values: s.train_loss, colour: "#2563eb", label: "train" },
    { values: s.val_loss, colour: "#f59e0b", label: "validation" },
  ];
  if (previous) {
    series.push({ values: previous.val_loss, stride: previous.stride, colour: "#9ca3af", label: `${previous.name || "previous"} val`, dash: "5 3", cls: "previous-run" });
  }
  chart(svg, series, {
    xlabel: "epoch",
    stride: s.history_stride,
    marker: s.best_epoch ? s.best_epoch - 1 : null,
    markerLabel: s.best_epoch ? `best epoch ${s.best_epoch}` : "",
    markerId: "best-epoch",
    marks: (s.marks || []).map((m) => ({ at: Math.max(0, m.epoch - 1), label: shorten(m.text), title: `epoch ${m.epoch}: ${m.text}` })),
  });
  if (previous) svg.dataset.previous = previous.label;
  else delete svg.dataset.previous;
}

function shorten(s) {
  return s.length > 28 ? s.slice(0, 27) + "…" : s;
}

export function drawRatios(svg, s) {
  const series = Object.entries(s.ratios).map(([name, v], k) => ({ values: v, colour: LAYER_COLOURS[k % LAYER_COLOURS.length], label: name }));
  // the server says why a layer's latest ratio cannot be drawn (‖w‖ = 0, or no update)
  const notes = Object.entries(s.ratio_notes || {}).map(([layer, why]) => `${layer}: ${why}`);
  const steps = series.some((v) => v.values.length);
  chart(svg, series, {
    log: true, guide: 1e-3, guideLabel: "1e-3", ymin: -6, ymax: 0, xlabel: "recent steps",
    empty: steps ? notes[0] || "no ratio to draw" : undefined,
    notes: notes.slice(steps && notes.length === series.length ? 1 : 0, 4),
  });
}

export function drawHists(box, s) {
  box.innerHTML = "";
  for (const h of s.hist) {
    const svg = el("svg", { width: 136, height: 80 }, null);
    box.appendChild(svg);
    const top = Math.max(1, ...h.counts);
    const bw = 128 / h.counts.length;
    h.counts.forEach((c, i) => el("rect", { x: 4 + i * bw, y: 60 - (44 * c) / top, width: bw - 1, height: (44 * c) / top, fill: "#6366f1" }, svg));
    text(svg, 4, 11, h.name + (h.dead ? ` (dead ${(100 * h.dead).toFixed(0)}%)` : ""));
    text(svg, 4, 74, fmt(h.lo, 2));
    text(svg, 132, 74, fmt(h.hi, 2), { "text-anchor": "end" });
  }
}
