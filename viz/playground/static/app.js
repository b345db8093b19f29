// chainrule playground: draws what the Python server sends; it never computes the maths.
// The server trains (engine + nn) and streams frames over server-sent events; this
// script sends settings and controls, draws the frames, and steps through the backprop
// steps the server recorded for a clicked sample.
"use strict";

const $ = (id) => document.getElementById(id);
const SVGNS = "http://www.w3.org/2000/svg";
const CLASS_RGB = [[245, 158, 11], [59, 130, 246], [16, 185, 129], [217, 70, 239], [100, 116, 139]];
const LAYER_COLOURS = ["#2563eb", "#f59e0b", "#10b981", "#d946ef", "#ef4444", "#0ea5e9", "#84cc16", "#64748b", "#a855f7"];

let schema = {};
let presets = {};
let session = null;
let events = null;
let state = null; // the latest frame
let settings = {}; // the settings the server accepted

function el(tag, attrs, parent) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function text(parent, x, y, s, attrs) {
  const t = el("text", Object.assign({ x, y }, attrs || {}), parent);
  t.textContent = s;
  return t;
}

function fmt(x, digits) {
  if (x === null || x === undefined) return "n/a";
  return Number(x).toPrecision(digits || 4);
}

// --- talking to the server --------------------------------------------------------
async function api(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

function accepted(s) {
  settings = s;
  fillForm(s);
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(s)) query.set(k, String(v));
  history.replaceState(null, "", "?" + query.toString());
}

async function start() {
  const meta = await api("/api/meta");
  schema = meta.schema;
  presets = meta.presets;
  buildForm();
  const fromUrl = Object.fromEntries(new URLSearchParams(location.search));
  let made;
  try {
    made = await api("/api/session", { settings: fromUrl });
  } catch (err) {
    showError("the link's settings were refused: " + err.message + " (the defaults are used)");
    made = await api("/api/session", { settings: {} });
  }
  session = made.session;
  accepted(made.settings);
  listen();
}

function listen() {
  events = new EventSource(`/api/session/${session}/events`);
  events.onmessage = (e) => {
    state = JSON.parse(e.data);
    draw();
  };
  events.onerror = () => {
    $("status").textContent = "the server is not answering (stopped?); reload when it runs again";
  };
}

// A hidden tab gives its event stream up: a browser opens at most 6 connections to one
// server, so six tabs each holding one would leave none for a seventh. The run goes on
// (and pauses if the tab stays hidden for a minute); the stream comes back when shown.
document.addEventListener("visibilitychange", () => {
  if (!session) return;
  if (document.hidden) events.close();
  else listen();
});

async function control(action) {
  try {
    await api(`/api/session/${session}/control`, { action });
  } catch (err) {
    showError(err.message);
  }
}

// the form as the server should see it: every knob's current value, as text
function formValues() {
  const values = {};
  for (const [name, k] of Object.entries(schema)) {
    const input = $("set-" + name);
    values[name] = k.kind === "bool" ? String(input.checked) : input.value;
  }
  return values;
}

// one request at a time, in the order the changes were made
let queue = Promise.resolve();
function sendSettings(changes) {
  queue = queue.then(() => trySettings(Object.assign(formValues(), changes), Object.keys(changes)));
  return queue;
}

async function trySettings(wanted, names) {
  document.querySelectorAll(".knob.bad").forEach((k) => k.classList.remove("bad"));
  try {
    const reply = await api(`/api/session/${session}/settings`, { settings: wanted });
    showError("");
    accepted(reply.settings);
    $("backprop").hidden = true;
  } catch (err) {
    showError(err.message); // the server kept the model it had; so does the form
    fillForm(settings, true);
    const bad = names.find((n) => err.message.startsWith(n)) || names[0];
    const knob = document.querySelector(`[data-knob="${bad}"]`);
    if (knob) knob.classList.add("bad");
  }
}

// --- the settings form ------------------------------------------------------------
function buildForm() {
  const form = $("settings");
  const groups = {};
  for (const [name, k] of Object.entries(schema)) {
    if (!groups[k.group]) {
      const fs = document.createElement("fieldset");
      const legend = document.createElement("legend");
      legend.textContent = k.group;
      fs.appendChild(legend);
      form.appendChild(fs);
      groups[k.group] = fs;
    }
    const row = document.createElement("label");
    row.className = "knob";
    row.dataset.knob = name;
    row.title = k.help || "";
    const span = document.createElement("span");
    span.textContent = name.replace(/_/g, " ");
    row.appendChild(span);
    let input;
    if (k.kind === "choice") {
      input = document.createElement("select");
      for (const c of k.choices) input.add(new Option(c, c));
    } else if (k.kind === "bool") {
      input = document.createElement("input");
      input.type = "checkbox";
    } else {
      input = document.createElement("input");
      input.type = "text";
    }
    input.id = "set-" + name;
    input.name = name;
    input.addEventListener("change", () => sendSettings({ [name]: k.kind === "bool" ? String(input.checked) : input.value }));
    row.appendChild(input);
    groups[k.group].appendChild(row);
  }
  form.addEventListener("submit", (e) => e.preventDefault());
  const select = $("preset");
  for (const [name, p] of Object.entries(presets)) {
    const option = new Option(name, name);
    option.title = p.help;
    select.add(option);
  }
  select.addEventListener("change", () => {
    const p = presets[select.value];
    if (!p) return;
    const fresh = {};
    for (const [n, k] of Object.entries(schema)) fresh[n] = String(k.default);
    sendSettings(Object.assign(fresh, p.changes)).then(() => {
      const box = $("message");
      box.textContent = select.value + ": " + p.help;
      box.hidden = false;
    });
  });
}

// `force`: also the knob being edited (a refused value is put back)
function fillForm(s, force) {
  for (const [name, value] of Object.entries(s)) {
    const input = $("set-" + name);
    if (!input || (input === document.activeElement && !force)) continue; // being typed in
    if (input.type === "checkbox") input.checked = Boolean(value);
    else input.value = String(value);
  }
}

// --- the live views ---------------------------------------------------------------
function draw() {
  const s = state;
  const last = (xs) => (xs.length ? xs[xs.length - 1] : null);
  // after early stopping the model in use is the restored checkpoint: show its numbers
  const r = s.restored;
  const acc = r ? r.val_acc : last(s.val_acc);
  const val = r
    ? ` · restored epoch ${r.epoch}: val loss ${fmt(r.val_loss)}`
    : ` · val loss ${fmt(last(s.val_loss))}` + (s.best_epoch ? ` (best: epoch ${s.best_epoch})` : "");
  const fps = s.perf.frame_ms > 0 ? 1000 / s.perf.frame_ms : 0;
  $("status").textContent =
    `epoch ${s.epoch} · step ${s.step} · lr ${fmt(s.lr, 3)} · train loss ${fmt(last(s.train_loss))}` +
    val + (acc === null || acc === undefined ? "" : ` · val acc ${fmt(acc, 3)}`) +
    ` · ${s.perf.steps_per_s.toFixed(1)} steps/s · boundary frame ${s.perf.frame_ms.toFixed(1)} ms (${fps.toFixed(0)} frames/s)` +
    (s.running ? " · training" : " · paused");
  $("status").dataset.epoch = s.epoch;
  $("status").dataset.step = s.step;
  $("status").dataset.trainLoss = last(s.train_loss) === null ? "" : last(s.train_loss);
  const msg = $("message");
  if (s.message) {
    msg.textContent = s.message;
    msg.hidden = false;
  }
  $("view-title").textContent = s.grid ? "decision boundary" : "fitted curve";
  drawBoundary(s);
  drawLoss(s);
  drawRatios(s);
  drawNet(s);
  drawHists(s);
}

// data coordinates -> canvas pixels; regression's y range comes from the data and curve
function mapper(s, canvas) {
  const [[x0, x1]] = s.box;
  let y0, y1;
  if (s.box.length > 1) [y0, y1] = s.box[1];
  else {
    const ys = s.points.train.concat(s.points.val).map((p) => p[1]).concat(s.curve ? s.curve.y : []);
    const finite = ys.filter((v) => v !== null && isFinite(v));
    const lo = Math.min(...finite), hi = Math.max(...finite), pad = (hi - lo) * 0.1 + 1e-9;
    [y0, y1] = [Math.max(lo - pad, -10), Math.min(hi + pad, 10)];
  }
  return (x, y) => [((x - x0) / (x1 - x0)) * canvas.width, ((y1 - y) / (y1 - y0)) * canvas.height];
}

function drawBoundary(s) {
  const canvas = $("boundary");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const map = mapper(s, canvas);
  if (s.grid) {
    const n = s.grid.n;
    const k = Math.max(2, ...s.points.train.map((p) => p[2] + 1));
    const img = new ImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      const rgb = CLASS_RGB[s.grid.cls[i] % CLASS_RGB.length];
      const a = s.grid.conf[i] === null ? 0 : Math.max(0, (s.grid.conf[i] - 1 / k) / (1 - 1 / k)) * 0.55;
      for (let c = 0; c < 3; c++) img.data[4 * i + c] = Math.round(255 * (1 - a) + rgb[c] * a);
      img.data[4 * i + 3] = 255;
    }
    const off = document.createElement("canvas");
    off.width = off.height = n;
    off.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
  } else if (s.curve) {
    ctx.strokeStyle = "#111827";
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.curve.x.forEach((x, i) => {
      const [px, py] = map(x, s.curve.y[i] === null ? 0 : s.curve.y[i]);
      i ? ctx.lineTo(px, py) : ctx.moveTo(px, py);
    });
    ctx.stroke();
  }
  for (const split of ["train", "val"]) {
    for (const p of s.points[split]) {
      const [px, py] = map(p[0], p[1]); // (x, y) or, for regression, (x, target)
      const rgb = s.grid ? CLASS_RGB[p[2] % CLASS_RGB.length] : [55, 65, 81];
      ctx.beginPath();
      ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
      ctx.fillStyle = split === "train" ? `rgb(${rgb})` : "#fff";
      ctx.strokeStyle = split === "train" ? "#111827" : `rgb(${rgb})`;
      ctx.lineWidth = split === "train" ? 0.8 : 2;
      ctx.fill();
      ctx.stroke();
    }
  }
}

// the canvas position (CSS pixels, relative to the canvas) of a point: used by clicks
function pointPixel(split, i) {
  const canvas = $("boundary");
  const p = state.points[split][i];
  const [px, py] = mapper(state, canvas)(p[0], p[1]);
  const r = canvas.getBoundingClientRect();
  return [(px * r.width) / canvas.width, (py * r.height) / canvas.height];
}

$("boundary").addEventListener("click", (e) => {
  if (!state) return;
  const r = e.target.getBoundingClientRect();
  const cx = e.clientX - r.left, cy = e.clientY - r.top;
  let best = null;
  for (const split of ["train", "val"]) {
    state.points[split].forEach((_, i) => {
      const [px, py] = pointPixel(split, i);
      const d = Math.hypot(px - cx, py - cy);
      if (d < 9 && (!best || d < best.d)) best = { split, i, d };
    });
  }
  if (best) openBackprop(best.split, best.i);
});

function chart(svg, series, opts) {
  // series: [{values, colour, label}]; opts: {log, guide, marker, ymin, ymax}
  svg.innerHTML = "";
  const W = +svg.getAttribute("width"), H = +svg.getAttribute("height");
  const L = 44, R = 8, T = 8, B = 20;
  const all = series.flatMap((s) => s.values).filter((v) => v !== null && isFinite(v) && (!opts.log || v > 0));
  if (!all.length) {
    text(svg, L, H / 2, opts.empty || "press play or step");
    return;
  }
  const f = opts.log ? Math.log10 : (v) => v;
  let lo = opts.ymin !== undefined ? opts.ymin : Math.min(...all.map(f));
  let hi = opts.ymax !== undefined ? opts.ymax : Math.max(...all.map(f));
  if (!opts.log) lo = Math.min(0, lo);
  if (hi - lo < 1e-12) hi = lo + 1;
  const n = Math.max(2, ...series.map((s) => s.values.length));
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
  if (opts.note) text(svg, W - R, T + 10, opts.note, { "text-anchor": "end", fill: "#b91c1c" });
  if (opts.marker !== undefined && opts.marker !== null) {
    const x = X(opts.marker);
    el("line", { x1: x, y1: T, x2: x, y2: H - B, stroke: "#10b981", "stroke-dasharray": "3 2", id: opts.markerId || "" }, svg);
    // right of the line in the chart's left half, left of it (anchored at its end) in the
    // right half: the label stays inside the chart whatever its length
    const right = x < (L + W - R) / 2;
    text(svg, right ? x + 3 : x - 3, T + 10, opts.markerLabel, {
      fill: "#047857", "text-anchor": right ? "start" : "end", id: opts.markerId ? opts.markerId + "-label" : "",
    });
  }
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => (v === null || !isFinite(v) || (opts.log && v <= 0) ? null : `${X(i)},${Y(v)}`)).filter(Boolean);
    el("polyline", { points: pts.join(" "), fill: "none", stroke: s.colour, "stroke-width": 1.5 }, svg);
    text(svg, L + 6 + k * 70, H - B - 4, s.label, { fill: s.colour });
  });
}

function drawLoss(s) {
  // epoch e (1-based) is at index e-1
  chart($("loss"), [
    { values: s.train_loss, colour: "#2563eb", label: "train" },
    { values: s.val_loss, colour: "#f59e0b", label: "validation" },
  ], {
    xlabel: "epoch",
    marker: s.best_epoch ? s.best_epoch - 1 : null,
    markerLabel: s.best_epoch ? `best epoch ${s.best_epoch}` : "",
    markerId: "best-epoch",
  });
}

function drawRatios(s) {
  const series = Object.entries(s.ratios).map(([name, v], k) => ({ values: v, colour: LAYER_COLOURS[k % LAYER_COLOURS.length], label: name }));
  // a ratio of a layer whose weights are all 0 is ‖Δw‖/0: the server sends null for it
  const steps = series.some((v) => v.values.length);
  const undef = series.filter((v) => v.values.length && v.values[v.values.length - 1] === null).map((v) => v.label);
  chart($("ratios"), series, {
    log: true, guide: 1e-3, guideLabel: "1e-3", ymin: -6, ymax: 0, xlabel: "recent steps",
    empty: steps ? "‖w‖ = 0: update/weight ratio undefined" : undefined,
    note: undef.length && undef.length < series.length ? `‖w‖ = 0: ratio undefined for ${undef.join(", ")}` : "",
  });
}

function drawNet(s) {
  const svg = $("net");
  svg.innerHTML = "";
  const W = +svg.getAttribute("width"), H = +svg.getAttribute("height");
  const sizes = s.net.sizes;
  const pos = sizes.map((n, l) => Array.from({ length: n }, (_, i) => [
    20 + ((W - 40) * l) / (sizes.length - 1), H / 2 + (i - (n - 1) / 2) * Math.min(15, (H - 20) / n),
  ]));
  const largest = Math.max(0, ...s.net.weights.flat(2).map(Math.abs));
  const maxW = Math.max(1e-9, largest); // only to scale the lines: all-zero weights stay thin
  s.net.weights.forEach((m, l) => m.forEach((row, j) => row.forEach((w, i) => {
    const [x1, y1] = pos[l][i], [x2, y2] = pos[l + 1][j];
    el("line", { x1, y1, x2, y2, stroke: w >= 0 ? "#2563eb" : "#f97316", "stroke-width": 0.2 + (3 * Math.abs(w)) / maxW, "stroke-opacity": 0.25 + (0.7 * Math.abs(w)) / maxW }, svg);
  })));
  pos.forEach((layer) => layer.forEach(([cx, cy]) => el("circle", { cx, cy, r: 4, fill: "#fff", stroke: "#111827" }, svg)));
  text(svg, 2, H - 2, `largest |w| = ${largest === 0 ? "0" : fmt(largest, 3)}`);
}

function drawHists(s) {
  const box = $("hists");
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

// --- one sample's backprop ----------------------------------------------------------
const bp = { g: null, frame: 0, open: new Set(), items: [], where: null };

async function openBackprop(split, index) {
  try {
    bp.g = await api(`/api/session/${session}/backprop`, { split, index });
  } catch (err) {
    showError(err.message);
    return;
  }
  showError("");
  const g = bp.g;
  $("backprop").hidden = false;
  $("bp-title").textContent = `${split} sample ${index}, x = (${g.x.map((v) => fmt(v, 3)).join(", ")}), target ${g.y}, loss ${fmt(g.loss)}` +
    ` — ${g.nodes.length} nodes, ${g.steps.length} chain-rule steps`;
  $("bp-slider").max = g.steps.length;
  bp.open = new Set(g.boxes.map((b, k) => (b.name === "loss" ? k : -1)).filter((k) => k >= 0));
  layoutGraph();
  showFrame(0);
  $("backprop").scrollIntoView({ behavior: "instant", block: "start" });
}

// columns: an op node sits right of all its parents; a leaf just left of its first use
function columns(g) {
  const n = g.nodes.length, col = new Array(n).fill(0);
  const parents = Array.from({ length: n }, () => []);
  const children = Array.from({ length: n }, () => []);
  for (const [p, c] of g.edges) { parents[c].push(p); children[p].push(c); }
  for (let v = 0; v < n; v++) { // ids in the trace's order: parents first, the root last
    if (g.nodes[v].kind === "computed") col[v] = 1 + Math.max(0, ...parents[v].map((p) => (g.nodes[p].kind === "computed" ? col[p] : 0)));
  }
  for (let v = 0; v < n; v++) {
    if (g.nodes[v].kind !== "computed") col[v] = Math.min(...children[v].map((c) => col[c])) - 1;
  }
  return col;
}

function layoutGraph() {
  const g = bp.g, svg = $("bp-svg");
  svg.innerHTML = "";
  const col = columns(g);
  // what is drawn: each node, or the box it is hidden in
  const rep = g.nodes.map((node, v) => (node.box !== null && !bp.open.has(node.box) ? "b" + node.box : "n" + v));
  const items = new Map();
  g.nodes.forEach((node, v) => {
    const key = rep[v];
    if (!items.has(key)) items.set(key, { key, col: key[0] === "b" ? col[g.boxes[node.box].out] : col[v], order: node.box === null ? 1e9 + v : node.box * 1e5 + v });
  });
  const used = [...new Set([...items.values()].map((it) => it.col))].sort((a, b) => a - b);
  const byCol = used.map((c) => [...items.values()].filter((it) => it.col === c).sort((a, b) => a.order - b.order));
  const tallest = Math.max(...byCol.map((c) => c.length));
  const CW = 166, RH = 46, BW = 140, BH = 36; // wide enough for 'layers.10.weight[15][15]'
  svg.setAttribute("width", used.length * CW + 20);
  svg.setAttribute("height", tallest * RH + 20);
  byCol.forEach((list, ci) => list.forEach((it, k) => {
    it.x = 10 + ci * CW;
    it.y = 10 + (k + (tallest - list.length) / 2) * RH;
  }));
  const edgeLayer = el("g", {}, svg), noteLayer = el("g", {}, svg);
  const seen = new Set();
  for (const [p, c] of g.edges) {
    const a = rep[p], b = rep[c], key = a + ">" + b;
    if (a === b || seen.has(key)) continue;
    seen.add(key);
    const A = items.get(a), B = items.get(b);
    el("line", { x1: A.x + BW, y1: A.y + BH / 2, x2: B.x, y2: B.y + BH / 2, stroke: "#9ca3af", "stroke-width": 0.8 }, edgeLayer);
  }
  for (const it of items.values()) {
    const group = el("g", { class: "item", "data-key": it.key }, svg);
    const isBox = it.key[0] === "b";
    const v = isBox ? g.boxes[+it.key.slice(1)].out : +it.key.slice(1);
    const node = g.nodes[v];
    const fill = isBox ? g.palette.module : g.palette[node.kind]; // the one palette (viz/palette.py)
    it.rect = el("rect", { x: it.x, y: it.y, width: BW, height: BH, rx: isBox ? 6 : 2, fill, stroke: isBox ? "#7c3aed" : "#6b7280" }, group);
    it.fill = fill;
    const title = isBox ? g.boxes[+it.key.slice(1)].name : node.label || node.op || node.kind;
    el("title", {}, group).textContent = title; // the whole name on hover
    text(group, it.x + 4, it.y + 13, title.length > 26 ? title.slice(0, 25) + "…" : title, { "font-weight": isBox ? "bold" : "normal" });
    it.value = text(group, it.x + 4, it.y + 29, "");
    it.node = v;
    group.addEventListener("click", () => {
      const boxIndex = isBox ? +it.key.slice(1) : node.box;
      if (boxIndex === null || boxIndex === undefined) return;
      bp.open.has(boxIndex) ? bp.open.delete(boxIndex) : bp.open.add(boxIndex);
      layoutGraph();
      showFrame(bp.frame);
    });
  }
  bp.items = [...items.values()];
  bp.rep = rep;
  bp.noteLayer = noteLayer;
  bp.itemsByKey = items;
}

function gradsAt(frame) {
  const g = bp.g, grad = new Array(g.nodes.length).fill(0);
  grad[g.root] = g.steps.length ? g.steps[0].upstream : 1;
  for (let k = 0; k < frame; k++) for (const [p, value] of g.steps[k].after) grad[p] = value;
  return grad;
}

function showFrame(k) {
  const g = bp.g;
  k = Math.max(0, Math.min(g.steps.length, k));
  bp.frame = k;
  const grad = gradsAt(k);
  const done = new Set(g.steps.slice(0, Math.max(0, k - 1)).map((s) => s.node));
  const current = k > 0 ? g.steps[k - 1] : null;
  const view = $("bp-graph");
  for (const it of bp.items) {
    const active = current && bp.rep[current.node] === it.key;
    if (active) view.scrollTo({ left: it.x - view.clientWidth / 2, top: it.y - view.clientHeight / 2 }); // keep it in sight
    const finished = done.has(it.node);
    it.rect.setAttribute("fill", active ? g.palette.current : finished ? g.palette.done : it.fill);
    it.rect.setAttribute("stroke-width", active ? 3 : 1);
    it.value.textContent = `${fmt(g.nodes[it.node].data, 3)} | grad ${fmt(grad[it.node], 3)}`;
  }
  bp.noteLayer.innerHTML = "";
  if (current) {
    const into = bp.itemsByKey.get(bp.rep[current.node]);
    for (const [p, , added] of current.adds) {
      const from = bp.itemsByKey.get(bp.rep[p]);
      if (!from || from === into) continue;
      text(bp.noteLayer, (from.x + 124 + into.x) / 2 - 10, (from.y + into.y) / 2 + 14, "+" + fmt(added, 3), { fill: "#b45309", "font-weight": "bold" });
    }
  }
  // the viz stepper's caption: a header, then dL/dp += dL/dv · dv/dp = upstream × local = added
  const lines = current ? current.caption : [g.start];
  const more = lines.length > 9 ? [`  … and ${lines.length - 9} more`] : [];
  $("bp-caption").textContent = [...lines.slice(0, 9), ...more].join("\n");
  $("bp-counter").textContent = `${k} / ${g.steps.length}`;
  $("bp-slider").value = k;
  const tbody = document.querySelector("#grads tbody");
  if (!tbody.dataset.built || tbody.dataset.built !== String(g.nodes.length) + g.loss) {
    tbody.innerHTML = "";
    g.grads.forEach((w) => {
      const tr = tbody.insertRow();
      tr.dataset.name = w.name;
      for (let c = 0; c < 3; c++) tr.insertCell();
    });
    tbody.dataset.built = String(g.nodes.length) + g.loss;
  }
  const paramIds = new Map(g.nodes.map((n, v) => [n.label, v]).filter(([, v]) => g.nodes[v].kind === "parameter"));
  [...tbody.rows].forEach((tr, i) => {
    const w = g.grads[i], v = paramIds.get(w.label);
    const value = v === undefined ? 0 : grad[v];
    tr.dataset.grad = String(value);
    tr.cells[0].textContent = w.label; // the node's name too: one naming in graph and table
    tr.cells[1].textContent = v === undefined ? "" : fmt(g.nodes[v].data, 4);
    tr.cells[2].textContent = value.toPrecision(6);
  });
  const end = k === g.steps.length;
  const same = end && g.backward_grads.every((b, i) => String(b) === tbody.rows[i].dataset.grad);
  $("bp-check").textContent = end ? (same ? "— the end of the pass: equal to backward()'s" : "— differ from backward()!") : `— so far (step ${k} of ${g.steps.length})`;
}

$("bp-first").onclick = () => showFrame(0);
$("bp-prev").onclick = () => showFrame(bp.frame - 1);
$("bp-next").onclick = () => showFrame(bp.frame + 1);
$("bp-last").onclick = () => showFrame(bp.g.steps.length);
$("bp-slider").oninput = (e) => showFrame(Number(e.target.value));
$("bp-open").onclick = () => { bp.open = new Set(bp.g.boxes.map((_, k) => k)); layoutGraph(); showFrame(bp.frame); };
$("bp-close").onclick = () => { bp.open = new Set(); layoutGraph(); showFrame(bp.frame); };

$("play").onclick = () => control("play");
$("pause").onclick = () => control("pause");
$("step").onclick = () => control("step");
$("reset").onclick = () => {
  $("message").hidden = true;
  $("backprop").hidden = true; // its graph was of the old model
  control("reset");
};

window.playground = { pointPixel, get state() { return state; }, get session() { return session; } };
start().catch((err) => showError("could not start: " + err.message));
