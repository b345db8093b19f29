// The data plane (decision boundary or fitted curve, with the points) and the network
// drawing, whose neurons and edges can be hovered: a neuron shows its output over the
// input plane, an edge its weight and the last step's dL/dw (asked of the server).

import { el, fmt, text } from "./charts.js";

export const CLASS_RGB = [[245, 158, 11], [59, 130, 246], [16, 185, 129], [217, 70, 239], [100, 116, 139]];

// data coordinates -> canvas pixels; regression's y range comes from the data and curve
export function mapper(s, points, canvas) {
  const [[x0, x1]] = s.box;
  let y0, y1;
  if (s.box.length > 1) [y0, y1] = s.box[1];
  else {
    const ys = points.train.concat(points.val).map((p) => p[1]).concat(s.curve ? s.curve.y : []);
    const finite = ys.filter((v) => v !== null && isFinite(v));
    const lo = Math.min(...finite), hi = Math.max(...finite), pad = (hi - lo) * 0.1 + 1e-9;
    [y0, y1] = [Math.max(lo - pad, -10), Math.min(hi + pad, 10)];
  }
  return (x, y) => [((x - x0) / (x1 - x0)) * canvas.width, ((y1 - y) / (y1 - y0)) * canvas.height];
}

// an n x n image of values in [0, 1] (alpha), in one class colour each
function paint(ctx, canvas, n, colourOf, alphaOf) {
  const img = new ImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const rgb = colourOf(i), a = alphaOf(i);
    for (let c = 0; c < 3; c++) img.data[4 * i + c] = Math.round(255 * (1 - a) + rgb[c] * a);
    img.data[4 * i + 3] = 255;
  }
  const off = document.createElement("canvas");
  off.width = off.height = n;
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
}

export function drawBoundary(canvas, s, points) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!points) return;
  const map = mapper(s, points, canvas);
  if (s.grid) {
    const k = Math.max(2, ...points.train.map((p) => p[2] + 1));
    paint(ctx, canvas, s.grid.n, (i) => CLASS_RGB[s.grid.cls[i] % CLASS_RGB.length],
      (i) => (s.grid.conf[i] === null ? 0 : Math.max(0, (s.grid.conf[i] - 1 / k) / (1 - 1 / k)) * 0.55));
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
    for (const p of points[split]) {
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

// a unit's output over the input plane: blue where high, orange where low
export function drawHeatmap(canvas, h) {
  const ctx = canvas.getContext("2d");
  const span = h.hi - h.lo || 1;
  paint(ctx, canvas, h.n, (i) => (h.values[i] >= (h.hi + h.lo) / 2 ? [37, 99, 235] : [249, 115, 22]),
    (i) => (h.values[i] === null ? 0 : Math.abs((h.values[i] - h.lo) / span - 0.5) * 1.6));
}

// the network: colour = sign, width = |w|; or, `byGrad`, colour = the sign of the last
// step's dL/dw (red +, green −: the step moves w the other way), width = its size.
// Hovering asks `inspect(layer, unit, input)`.
export function drawNet(svg, s, inspect, byGrad) {
  svg.innerHTML = "";
  const W = +svg.getAttribute("width"), H = +svg.getAttribute("height");
  const sizes = s.net.sizes;
  const pos = sizes.map((n, l) => Array.from({ length: n }, (_, i) => [
    20 + ((W - 40) * l) / (sizes.length - 1), H / 2 + (i - (n - 1) / 2) * Math.min(15, (H - 20) / n),
  ]));
  const shown = byGrad && s.net.grads ? s.net.grads : s.net.weights;
  const colours = byGrad && s.net.grads ? ["#dc2626", "#16a34a"] : ["#2563eb", "#f97316"];
  const largest = Math.max(0, ...s.net.weights.flat(2).map(Math.abs));
  const finite = shown.flat(2).filter((v) => v !== null);
  const maxW = Math.max(1e-12, ...finite.map(Math.abs)); // only to scale the lines: zeros stay thin
  shown.forEach((m, l) => m.forEach((row, j) => row.forEach((v, i) => {
    const [x1, y1] = pos[l][i], [x2, y2] = pos[l + 1][j], w = v === null ? 0 : v;
    const line = el("line", { x1, y1, x2, y2, class: "edge", stroke: w >= 0 ? colours[0] : colours[1], "stroke-width": 0.2 + (3 * Math.abs(w)) / maxW, "stroke-opacity": 0.25 + (0.7 * Math.abs(w)) / maxW }, svg);
    line.addEventListener("mouseenter", () => inspect({ layer: l, unit: j, input: i }, line));
  })));
  pos.forEach((layer, l) => layer.forEach(([cx, cy], j) => {
    const c = el("circle", { cx, cy, r: 4, fill: "#fff", stroke: "#111827", class: "unit", tabindex: 0 }, svg);
    if (l > 0) {
      c.addEventListener("mouseenter", () => inspect({ layer: l - 1, unit: j }, c));
      c.addEventListener("focus", () => inspect({ layer: l - 1, unit: j }, c));
    }
  }));
  const big = byGrad ? `largest |dL/dw| = ${finite.length && maxW > 1e-12 ? fmt(maxW, 3) : "0"}` : `largest |w| = ${largest === 0 ? "0" : fmt(largest, 3)}`;
  text(svg, 2, H - 2, big);
  svg.dataset.colour = byGrad ? "grad" : "weight";
}
