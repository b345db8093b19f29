// The backprop stepper's page: the graph is drawn once by `dot`; each frame recolours
// nodes and edges and rewrites grad cells. Everything it touches is named by the page's
// DATA (written by chainrule.viz.stepper.stepper_data from the trace that also drew the
// graph): DATA.nodes[i] = {id, grad} is node i's SVG id and the index of its grad text,
// DATA.steps[k] = {node, edges (SVG ids), grads: [[node, before, after]], caption};
// DATA.palette is chainrule.viz.palette.COLOURS.
"use strict";
const P = DATA.palette;
const nodes = {};
for (const g of document.querySelectorAll("#frame g.node")) nodes[g.id] = g;
function svgNode(i) { return nodes[DATA.nodes[i].id]; }
function shape(i) { return svgNode(i).querySelector("polygon, path"); }
function gradText(i) { return svgNode(i).querySelectorAll("text")[DATA.nodes[i].grad]; }
const base = DATA.nodes.map((n, i) => (nodes[n.id] && shape(i) ? shape(i).getAttribute("fill") : null));
function paint(i, colour, width) {
  const s = shape(i);
  s.setAttribute("fill", colour);
  s.setAttribute("stroke-width", width);
}
function edges(k, on) {
  for (const id of DATA.steps[k].edges) {
    const g = document.getElementById(id);
    if (!g) continue;  // drawn inside a parameter table
    for (const p of g.querySelectorAll("path, polygon")) {
      p.setAttribute("stroke", on ? P.edge : "black");
      if (p.tagName === "polygon") p.setAttribute("fill", on ? P.edge : "black");
      p.setAttribute("stroke-width", on ? "2.5" : "1");
    }
  }
}
function setGrads(k, which) {  // which: 1 the text before step k, 2 after
  for (const c of DATA.steps[k].grads) gradText(c[0]).textContent = c[which];
}
let shown = 0;
function forward() {  // frame shown -> shown + 1: apply step `shown`
  const k = shown;
  if (k > 0) { paint(DATA.steps[k - 1].node, P.done, 1); edges(k - 1, false); }
  setGrads(k, 2);
  paint(DATA.steps[k].node, P.current, 3);
  edges(k, true);
  shown = k + 1;
}
function backward() {  // frame shown -> shown - 1: undo step shown - 1
  const k = shown - 1, i = DATA.steps[k].node;
  paint(i, base[i], 1);
  edges(k, false);
  setGrads(k, 1);
  if (k > 0) { paint(DATA.steps[k - 1].node, P.current, 3); edges(k - 1, true); }
  shown = k;
}
function reveal(g) {  // scroll the current node into view, below the sticky header
  const r = g.getBoundingClientRect(), frame = document.getElementById("frame");
  const top = document.getElementById("top").getBoundingClientRect().bottom;
  if (r.top < top || r.bottom > window.innerHeight)
    window.scrollBy(0, (r.top + r.bottom) / 2 - (top + window.innerHeight) / 2);
  const f = frame.getBoundingClientRect();
  if (r.left < f.left || r.right > f.right)
    frame.scrollLeft += (r.left + r.right) / 2 - (f.left + f.right) / 2;
}
function show(target) {
  target = Math.max(0, Math.min(DATA.steps.length, target));
  while (shown < target) forward();
  while (shown > target) backward();
  if (shown > 0) reveal(svgNode(DATA.steps[shown - 1].node));
  const lines = shown === 0 ? [DATA.start] : DATA.steps[shown - 1].caption;
  const cap = document.getElementById("caption");
  cap.replaceChildren(...lines.map((t) => {
    const d = document.createElement("div"); d.textContent = t; return d; }));
  const counter = document.getElementById("counter");  // numbered as the captions
  counter.textContent = "step " + shown + "/" + DATA.steps.length;
  document.getElementById("slider").value = shown;
}
for (const [i, text] of DATA.grads) {  // centred: the number's width changes per frame
  const t = gradText(i), box = shape(i).getBBox();
  t.textContent = text;
  t.setAttribute("text-anchor", "middle");
  t.setAttribute("x", box.x + box.width / 2);
}
const slider = document.getElementById("slider");
slider.max = DATA.steps.length;
document.getElementById("prev").onclick = () => show(shown - 1);
document.getElementById("next").onclick = () => show(shown + 1);
slider.oninput = (e) => show(Number(e.target.value));
document.addEventListener("keydown", (e) => {
  if (e.key === "ArrowRight") show(shown + 1);
  if (e.key === "ArrowLeft") show(shown - 1);
  if (e.key === "Home") show(0);
  if (e.key === "End") show(DATA.steps.length);
});
show(0);
