// One sample's backprop, one chain-rule step at a time, over the graph the server built
// (nodes, edges, module boxes, the steps and their captions). Boxes are modules: click
// one to open or close it; the box holding the node a caption names opens itself.
// Keys: ← and → step anywhere on the page (outside text fields; in a notebook widget,
// anywhere inside that widget), Home/End jump. The layer-by-layer mode steps through the
// same pass in matrix form instead (layers.js).

import { el, fmt, text } from "./charts.js";
import { layerCount, layerFrame } from "./layers.js";

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

function place(g, col, rep) {
  const items = new Map();
  g.nodes.forEach((node, v) => {
    const key = rep[v];
    if (!items.has(key)) items.set(key, { key, col: key[0] === "b" ? col[g.boxes[node.box].out] : col[v], order: node.box === null ? 1e9 + v : node.box * 1e5 + v });
  });
  const used = [...new Set([...items.values()].map((it) => it.col))].sort((a, b) => a - b);
  const byCol = used.map((c) => [...items.values()].filter((it) => it.col === c).sort((a, b) => a.order - b.order));
  const tallest = Math.max(...byCol.map((c) => c.length));
  const CW = 166, RH = 46; // wide enough for 'layers.10.weight[15][15]'
  byCol.forEach((list, ci) => list.forEach((it, k) => {
    it.x = 10 + ci * CW;
    it.y = 10 + (k + (tallest - list.length) / 2) * RH;
  }));
  return { items, width: used.length * CW + 20, height: tallest * RH + 20 };
}

// One stepper per playground mount: its own elements (under `root`: the page's document,
// or a notebook widget's element), its own graph and frame, its own key listener.
export class Stepper {
  constructor(root) {
    this.root = root;
    this.bp = { g: null, frame: 0, open: new Set(), items: [], grads: null, gradsAt: -1 };
    this.onKey = (e) => this.key(e);
  }

  $(id) {
    return this.root.querySelector("#" + id);
  }

  layerMode() {
    return this.$("bp-layer-mode").checked;
  }

  // the last frame: one per chain-rule step, or two per layer in the layer-by-layer mode
  total() {
    return this.layerMode() ? layerCount(this.bp.g.layerwise) : this.bp.g.steps.length;
  }

  get frame() {
    return this.bp.frame;
  }

  get graph() {
    return this.bp.g;
  }

  show(g, split, index) {
    this.bp.g = g;
    this.bp.grads = null;
    this.$("backprop").hidden = false;
    this.$("bp-title").textContent = `${split} sample ${index}, x = (${g.x.map((v) => fmt(v, 3)).join(", ")}), target ${g.y}, loss ${fmt(g.loss)}` +
      ` — ${g.nodes.length} nodes, ${g.steps.length} chain-rule steps`;
    const zero = g.steps.filter((s) => s.upstream === 0).length;
    this.$("bp-zero-count").textContent = `(${zero} of ${g.steps.length} pass along 0)`;
    this.$("bp-slider").max = this.total();
    this.bp.open = new Set(g.boxes.map((b, k) => (b.name === "loss" ? k : -1)).filter((k) => k >= 0));
    this.layoutGraph();
    this.showFrame(0);
    this.$("backprop").scrollIntoView({ behavior: "instant", block: "start" });
  }

  hide() {
    this.$("backprop").hidden = true;
    this.bp.g = null;
  }

  layoutGraph() {
    const g = this.bp.g, svg = this.$("bp-svg");
    svg.innerHTML = "";
    // what is drawn: each node, or the box it is hidden in
    const rep = g.nodes.map((node, v) => (node.box !== null && !this.bp.open.has(node.box) ? "b" + node.box : "n" + v));
    const { items, width, height } = place(g, columns(g), rep);
    const BW = 140, BH = 36;
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
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
      group.addEventListener("click", () => this.toggle(isBox ? +it.key.slice(1) : node.box));
    }
    this.bp.items = [...items.values()];
    this.bp.rep = rep;
    this.bp.noteLayer = noteLayer;
    this.bp.itemsByKey = items;
  }

  toggle(box) {
    if (box === null || box === undefined) return;
    this.bp.open.has(box) ? this.bp.open.delete(box) : this.bp.open.add(box);
    this.layoutGraph();
    this.showFrame(this.bp.frame);
  }

  // every node's gradient after `frame` steps, moved on from the last frame shown when
  // stepping forward (a long graph is not replayed from the start on every step)
  gradsAt(frame) {
    const g = this.bp.g;
    if (!this.bp.grads || frame < this.bp.gradsAt) {
      this.bp.grads = new Array(g.nodes.length).fill(0);
      this.bp.grads[g.root] = g.steps.length ? g.steps[0].upstream : 1;
      this.bp.gradsAt = 0;
    }
    for (let k = this.bp.gradsAt; k < frame; k++) for (const [p, value] of g.steps[k].after) this.bp.grads[p] = value;
    this.bp.gradsAt = frame;
    return this.bp.grads;
  }

  // the frame after (dir +1) or before (dir -1) k, skipping steps that pass along 0 if asked
  neighbour(k, dir) {
    const g = this.bp.g;
    let j = k + dir;
    if (this.$("bp-skip").checked && !this.layerMode()) {
      while (j >= 1 && j <= g.steps.length && g.steps[j - 1].upstream === 0) j += dir;
    }
    return Math.max(0, Math.min(this.total(), j));
  }

  showFrame(k) {
    const g = this.bp.g;
    if (this.layerMode()) {
      this.bp.frame = Math.max(0, Math.min(this.total(), k));
      layerFrame(this.$("bp-layers"), g.layerwise, g.x, this.bp.frame);
      this.$("bp-counter").textContent = `${this.bp.frame} / ${this.total()}`;
      this.$("bp-slider").value = this.bp.frame;
      this.gradTable(g, this.gradsAt(g.steps.length), g.steps.length); // the pass's end: what δ aᵀ gives
      return;
    }
    k = Math.max(0, Math.min(g.steps.length, k));
    const current = k > 0 ? g.steps[k - 1] : null;
    const box = current ? g.nodes[current.node].box : null;
    if (this.$("bp-auto").checked && box !== null && !this.bp.open.has(box)) {
      this.bp.open.add(box); // the caption names a node inside this box: show it
      this.layoutGraph();
    }
    this.bp.frame = k;
    const grad = this.gradsAt(k);
    const done = new Set(g.steps.slice(0, Math.max(0, k - 1)).map((s) => s.node));
    const view = this.$("bp-graph");
    for (const it of this.bp.items) {
      const active = current && this.bp.rep[current.node] === it.key;
      if (active) view.scrollTo({ left: it.x - view.clientWidth / 2, top: it.y - view.clientHeight / 2 }); // keep it in sight
      it.rect.setAttribute("fill", active ? g.palette.current : done.has(it.node) ? g.palette.done : it.fill);
      it.rect.setAttribute("stroke-width", active ? 3 : 1);
      it.value.textContent = `${fmt(g.nodes[it.node].data, 3)} | grad ${fmt(grad[it.node], 3)}`;
    }
    this.bp.noteLayer.innerHTML = "";
    if (current) {
      const into = this.bp.itemsByKey.get(this.bp.rep[current.node]);
      for (const [p, , added] of current.adds) {
        const from = this.bp.itemsByKey.get(this.bp.rep[p]);
        if (!from || from === into) continue;
        text(this.bp.noteLayer, (from.x + 124 + into.x) / 2 - 10, (from.y + into.y) / 2 + 14, "+" + fmt(added, 3), { fill: "#b45309", "font-weight": "bold" });
      }
    }
    // the viz stepper's caption: a header, then dL/dp += dL/dv · dv/dp = upstream × local = added
    const lines = (current ? current.caption : [g.start]).map((l) => l.replace(/(^|[^\d.])-0(\.0+)?(?![\d.])/g, "$10"));
    const more = lines.length > 9 ? [`  … and ${lines.length - 9} more`] : [];
    this.$("bp-caption").textContent = [...lines.slice(0, 9), ...more].join("\n");
    this.$("bp-counter").textContent = `${k} / ${g.steps.length}`;
    this.$("bp-slider").value = k;
    this.gradTable(g, grad, k);
  }

  gradTable(g, grad, k) {
    const tbody = this.root.querySelector("#grads tbody");
    if (tbody.dataset.built !== String(g.nodes.length) + g.loss) {
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
      tr.cells[2].textContent = value === 0 ? "0" : value.toPrecision(6);
    });
    const end = k === g.steps.length;
    const same = end && g.backward_grads.every((b, i) => String(b) === tbody.rows[i].dataset.grad);
    this.$("bp-check").textContent = end ? (same ? "— the end of the pass: equal to backward()'s" : "— differ from backward()!") : `— so far (step ${k} of ${g.steps.length})`;
  }

  wire() {
    this.$("bp-first").onclick = () => this.showFrame(0);
    this.$("bp-prev").onclick = () => this.showFrame(this.neighbour(this.bp.frame, -1));
    this.$("bp-next").onclick = () => this.showFrame(this.neighbour(this.bp.frame, 1));
    this.$("bp-last").onclick = () => this.showFrame(this.total());
    this.$("bp-slider").oninput = (e) => this.showFrame(Number(e.target.value));
    this.$("bp-open").onclick = () => { this.bp.open = new Set(this.bp.g.boxes.map((_, k) => k)); this.layoutGraph(); this.showFrame(this.bp.frame); };
    this.$("bp-layer-mode").onchange = () => {
      const on = this.layerMode(); // the matrix form replaces the graph and its caption
      this.$("bp-graph").hidden = this.$("bp-caption").hidden = on;
      this.$("bp-layers").hidden = !on;
      if (this.bp.g) { this.$("bp-slider").max = this.total(); this.showFrame(0); }
    };
    this.$("bp-close").onclick = () => { this.bp.open = new Set(); this.layoutGraph(); this.showFrame(this.bp.frame); };
    document.addEventListener("keydown", this.onKey);
  }

  // ← → Home End: anywhere on the page; in a widget, only in this widget (another
  // widget's stepper, or the notebook, has them elsewhere)
  key(e) {
    if (!this.bp.g || this.$("backprop").hidden || e.altKey || e.ctrlKey || e.metaKey) return;
    const t = e.target;
    if (this.root !== document && !this.root.contains(t)) return;
    if (t && (t.tagName === "INPUT" && t.type !== "range" && t.type !== "checkbox" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) return;
    const moves = { ArrowRight: () => this.neighbour(this.bp.frame, 1), ArrowLeft: () => this.neighbour(this.bp.frame, -1), Home: () => 0, End: () => this.total() };
    if (!moves[e.key]) return;
    e.preventDefault();
    this.showFrame(moves[e.key]());
  }

  dispose() {
    document.removeEventListener("keydown", this.onKey);
  }
}
