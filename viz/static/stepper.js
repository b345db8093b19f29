// The backprop stepper, shared by the page (stepper.html) and the notebook widget
// (widget.js): the graph is drawn once by `dot`; each frame recolours nodes and edges and
// rewrites grad cells. Everything it touches is named by DATA (written by
// chainrule.viz.stepper.stepper_data from the trace that also drew the graph):
// DATA.nodes[i] = {id, grad}: node i's SVG id and the index of its grad text;
// DATA.steps[k] = {node, edges (SVG ids), grads: [[node, before, after]], caption};
// DATA.palette = chainrule.viz.palette.COLOURS. All look-ups stay inside `root`, so two
// steppers on one page (two widgets in a notebook) never touch each other's drawing.
"use strict";
function crStepper(root, DATA) {
  const P = DATA.palette;
  const part = (name) => root.querySelector(".cr-" + name);
  const byId = (id) => root.querySelector(`[id="${CSS.escape(id)}"]`);
  const svgNode = (i) => byId(DATA.nodes[i].id);
  const shape = (i) => svgNode(i).querySelector("polygon, path");
  const gradText = (i) => svgNode(i).querySelectorAll("text")[DATA.nodes[i].grad];
  const base = DATA.nodes.map((n, i) => (svgNode(i) && shape(i) ? shape(i).getAttribute("fill") : null));
  function paint(i, colour, width) {
    const s = shape(i);
    s.setAttribute("fill", colour);
    s.setAttribute("stroke-width", width);
  }
  function edges(k, on) {
    for (const id of DATA.steps[k].edges) {
      const g = byId(id);
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
  function reveal(g) {  // scroll the current node into view, below a sticky header
    const r = g.getBoundingClientRect(), frame = part("frame");
    const head = part("top");
    const top = head && getComputedStyle(head).position === "sticky" ? head.getBoundingClientRect().bottom : 0;
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
    part("caption").replaceChildren(...lines.map((t) => {
      const d = document.createElement("div"); d.textContent = t; return d; }));
    part("counter").textContent = "step " + shown + "/" + DATA.steps.length;  // as the captions
    part("slider").value = shown;
    return shown;
  }
  for (const [i, text] of DATA.grads) {  // centred: the number's width changes per frame
    const t = gradText(i), box = shape(i).getBBox();
    t.textContent = text;
    t.setAttribute("text-anchor", "middle");
    t.setAttribute("x", box.x + box.width / 2);
  }
  part("slider").max = DATA.steps.length;
  return { show, shown: () => shown, total: DATA.steps.length };
}
