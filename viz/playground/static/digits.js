// The digits view: 64 inputs have no plane to draw a boundary on, so the page shows
// images instead. Each 8x8 input as a little picture with its label and the model's
// guess, and the gallery of validation digits the model still gets wrong, as the server
// sends them with each frame (pixels 0..16; the guess is the argmax of the outputs).

import { fmt } from "./charts.js";

// one 8x8 digit, dark ink on white, each pixel a square (no smoothing: the pixels are the data)
function digitCanvas(pixels, size) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 8;
  canvas.style.width = canvas.style.height = size + "px";
  canvas.className = "digit-img";
  const img = new ImageData(8, 8);
  pixels.forEach((v, i) => {
    const shade = Math.round(255 * (1 - v / 16));
    img.data.set([shade, shade, shade, 255], 4 * i);
  });
  canvas.getContext("2d").putImageData(img, 0, 0);
  return canvas;
}

function figure(d, size, caption, onPick) {
  const fig = document.createElement("figure");
  fig.className = "digit" + (d.pred === d.label ? "" : " wrong");
  fig.title = `validation sample ${d.index}: click for its backprop`;
  fig.onclick = () => onPick(d.index);
  fig.appendChild(digitCanvas(d.pixels, size));
  const cap = document.createElement("figcaption");
  cap.textContent = caption;
  fig.appendChild(cap);
  return fig;
}

// the card, made once next to the other views (the page's HTML stays the 2-D one)
function card(root) {
  let box = root.querySelector("#digits");
  if (box) return box;
  box = document.createElement("div");
  box.id = "digits";
  box.className = "card";
  box.innerHTML = '<h2>digits <small>(the first validation image of each digit: label · the model\'s guess)</small></h2>' +
    '<div id="digit-acc"></div><div id="digit-shown" class="digit-row"></div>' +
    '<h2>misclassified validation digits <small id="digit-wrong-count"></small></h2>' +
    '<div id="digit-wrong" class="digit-row"></div>';
  const views = root.querySelector("#views");
  views.insertBefore(box, views.firstChild);
  return box;
}

// Draws the digits view when the frame has one; returns whether it did (the 2-D
// boundary card is hidden then, and shown again for the other data sets). A click on a
// digit calls onPick(its validation index).
export function drawDigits(root, s, onPick) {
  const d = s.digits;
  root.querySelector("#boundary").closest(".card").style.display = d ? "none" : "";
  const existing = root.querySelector("#digits");
  if (!d) {
    if (existing) existing.style.display = "none";
    return false;
  }
  const box = card(root);
  box.style.display = "";
  box.querySelector("#digit-acc").textContent =
    `val acc ${fmt(d.val_acc, 3)} (${d.val_count - d.wrong_count} of ${d.val_count} right) · train acc ${fmt(d.train_acc, 3)}`;
  box.querySelector("#digit-shown").replaceChildren(
    ...d.shown.map((x) => figure(x, 48, `${x.label} · guess ${x.pred}`, onPick)));
  const more = d.wrong_count > d.wrong.length ? `, the first ${d.wrong.length} shown` : "";
  box.querySelector("#digit-wrong-count").textContent = `(${d.wrong_count} of ${d.val_count}${more}; guess ← true)`;
  box.querySelector("#digit-wrong").replaceChildren(
    ...d.wrong.map((x) => figure(x, 32, `${x.pred} ← ${x.label}`, onPick)));
  return true;
}
