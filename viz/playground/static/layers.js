// The stepper's layer-by-layer mode: the same sample's backprop in matrix form, from the
// output layer back. Each layer takes two steps: δ = Wᵀδ ⊙ f′(z) (at the output,
// δ = ∂L/∂a ⊙ f′(z)), then ∂L/∂W = δ aᵀ and ∂L/∂b = δ. The numbers are the server's
// (layerwise.py), already checked against the scalar graph's gradients; this only writes them.

import { fmt } from "./charts.js";

const vec = (v) => "(" + v.map((x) => fmt(x, 4)).join(", ") + ")";

// how many frames: the forward summary, then two per layer
export function layerCount(lw) {
  return lw && lw.available ? 2 * lw.layers.length : 0;
}

function intro(lw, x) {
  if (!lw.available) return ["layer by layer: not for this network", lw.reason];
  const names = lw.layers.map((r) => r.name).reverse();
  return [
    `forward: a⁰ = x = ${vec(x)}; for each layer zˡ = Wˡ aˡ⁻¹ + bˡ, aˡ = f(zˡ) (${names.join(" → ")})`,
    "backward, from the output layer back:",
    "  δ = ∂L/∂a ⊙ f′(z) at the output, δ = Wᵀδ ⊙ f′(z) below it (W, δ: the layer above's)",
    "  then each layer's weights' gradients ∂L/∂W = δ aᵀ and ∂L/∂b = δ",
  ];
}

function deltaLines(lw, m) {
  const r = lw.layers[m], above = lw.layers[m - 1];
  const head = m === 0
    ? `δ of ${r.name} (the output layer, f = ${r.activation}) = ∂L/∂a ⊙ f′(z)`
    : `δ of ${r.name} (f = ${r.activation}) = (W of ${above.name})ᵀ δ of ${above.name} ⊙ f′(z)`;
  const up = m === 0 ? "∂L/∂a" : "(Wᵀδ)";
  return [head, ...r.delta.map((d, j) =>
    `  unit ${j}: z = ${fmt(r.z[j], 4)}, f′(z) = ${fmt(r.fprime[j], 4)}, ${up} = ${fmt(r.upstream[j], 4)}, δ = ${fmt(r.upstream[j], 4)} × ${fmt(r.fprime[j], 4)} = ${fmt(d, 4)}`)];
}

function gradLines(lw, m) {
  const r = lw.layers[m];
  const lines = [`∂L/∂W of ${r.name} = δ aᵀ, with a = ${vec(r.a_in)} (this layer's input)`];
  r.dW.forEach((row, j) => lines.push(`  row ${j}: ${fmt(r.delta[j], 4)} × a = ${vec(row)}`));
  if (r.db) lines.push(`∂L/∂b of ${r.name} = δ = ${vec(r.db)}`);
  lines.push(r.agrees
    ? `equal to the scalar graph's gradients (largest difference ${fmt(r.max_diff, 2)})`
    : `differ from the scalar graph's gradients! (by up to ${fmt(r.max_diff, 3)})`);
  if (m === lw.layers.length - 1) lines.push(lw.agrees ? "every layer: the same gradients as backward() on the graph" : "some layer differs from backward()!");
  return lines;
}

// frame k: 0 the forward summary, 2m + 1 layer m's δ, 2m + 2 its gradients (m = 0: output)
export function layerFrame(box, lw, x, k) {
  const m = Math.floor((k - 1) / 2);
  const lines = k === 0 || !lw.available ? intro(lw, x) : k % 2 ? deltaLines(lw, m) : gradLines(lw, m);
  box.textContent = lines.join("\n");
  box.dataset.layer = k === 0 ? "" : lw.layers[m].name;
  box.dataset.part = k === 0 ? "forward" : k % 2 ? "delta" : "grads";
  box.dataset.agrees = String(!!lw.agrees);
}
