// chainrule playground: draws what the Python side sends; it never computes the maths.
// The server (or, in a notebook, the kernel) trains with engine + nn and sends frames;
// this page sends settings and controls, draws the frames, and steps through the
// backprop steps recorded for a clicked sample.

import { drawHists, drawLoss, drawRatios, fmt } from "./charts.js";
import { ServerDown } from "./client.js";
import { drawDigits } from "./digits.js";
import { drawBoundary, drawHeatmap, drawNet, mapper } from "./network.js";
import { hideBackprop, setRoot, showBackprop, stepper, wireStepper } from "./stepper.js";

let root = document; // the page, or a notebook widget's element
let inPage = true; // a page of its own: the URL and the tab's storage are ours
let initial = {}; // a widget's settings, given by the kernel
const $ = (id) => root.querySelector("#" + id);

// which knobs do something, given the others (the rest are hidden)
const APPLIES = {
  momentum: (s) => s.optimizer === "momentum" || s.optimizer === "nesterov",
  step_size: (s) => s.schedule === "step",
  gamma: (s) => s.schedule === "step",
  decay: (s) => s.schedule === "exponential",
  dropout_form: (s) => Number(s.dropout) > 0,
  bn_momentum: (s) => String(s.batchnorm) === "true",
  noise: (s) => s.dataset !== "digits", // real images: no noise is added
};
const TASK_LOSS = { mse: "mse (regression)", cross_entropy: "cross-entropy (softmax, 3+ classes)" };

let schema = {};
let presets = {};
let session = null;
let state = null; // the latest frame
let points = null; // the data's points, fetched once per model
let settings = {}; // the settings the server accepted
let lesson = ""; // the chosen preset, kept on screen and in the URL
const KEPT_RUNS = 5; // the runs one can compare with: each replaced run's validation losses
let runs = []; // newest first; the one chosen in #compare is drawn dashed
let runCount = 0;
const received = []; // when frames arrived (frames/s counts what this page got)

let client = null;

function banner(message) {
  $("offline").textContent = message;
  $("offline").hidden = !message;
}

function showError(message) {
  $("error").textContent = message || "";
  $("error").hidden = !message;
}

function report(err) {
  if (!(err instanceof ServerDown)) showError(err.message);
}

function writeUrl() {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(settings)) query.set(k, String(v));
  if (lesson) query.set("lesson", lesson);
  if (inPage) history.replaceState(null, "", "?" + query.toString());
}

function accepted(s) {
  settings = s;
  fillForm(s);
  writeUrl();
}

function showLesson() {
  const p = presets[lesson];
  $("lesson").hidden = !p;
  $("lesson").textContent = p ? `${lesson}: ${p.help}` : "";
  $("preset").value = p ? lesson : "";
}

async function start() {
  const meta = await client.request("/api/meta");
  schema = meta.schema;
  presets = meta.presets;
  buildForm();
  const query = inPage ? Object.fromEntries(new URLSearchParams(location.search)) : { ...initial };
  lesson = query.lesson in presets ? query.lesson : "";
  delete query.lesson;
  showLesson();
  await reopen(query);
}

// this tab's session: the one it had before a reload (sessionStorage), else a new one
async function reopen(fromUrl) {
  const wanted = fromUrl || settings;
  const resume = (inPage && sessionStorage.getItem("chainrule-session")) || undefined;
  let made;
  try {
    made = await client.request("/api/session", { settings: wanted, resume });
  } catch (err) {
    if (err instanceof ServerDown) throw err;
    showError("the link's settings were refused: " + err.message + " (the defaults are used)");
    made = await client.request("/api/session", { settings: {} });
  }
  session = made.session;
  if (inPage) sessionStorage.setItem("chainrule-session", session);
  points = null;
  accepted(made.settings);
  if (!document.hidden) client.listen(session, onFrame);
}

async function onFrame(frame) {
  const now = performance.now();
  received.push(now);
  while (received.length && received[0] < now - 2000) received.shift();
  if (!points || points.data_version !== frame.data_version) {
    const wanted = frame.data_version;
    const got = await client.request(`/api/session/${session}/points`).catch(() => null);
    if (!got || got.data_version !== wanted) return; // a newer model came meanwhile
    if (points && state) remember(state);
    points = got;
  }
  state = Object.assign(frame, { points });
  draw();
}

// the run being replaced, for the loss chart's comparison (its settings as its label)
function remember(s) {
  if (!s.val_loss.length) return;
  runCount += 1;
  const label = s.settings ? Object.entries(s.settings).map(([k, v]) => `${k}=${v}`).join("&") : "";
  runs = [{ id: runCount, name: `run ${runCount}`, val_loss: s.val_loss, stride: s.history_stride, label, epochs: s.epoch }, ...runs].slice(0, KEPT_RUNS);
  const pick = $("compare");
  pick.innerHTML = "";
  pick.add(new Option("none", ""));
  for (const r of runs) {
    const o = new Option(`${r.name}: ${r.epochs} epochs, val ${fmt(r.val_loss[r.val_loss.length - 1], 3)}`, String(r.id));
    o.title = r.label; // its settings, on hover
    pick.add(o);
  }
  pick.value = String(runs[0].id); // the run just replaced, unless another is chosen
  pick.disabled = false;
}

// the earlier run the loss chart overlays, or null
function compared() {
  return runs.find((r) => String(r.id) === $("compare").value) || null;
}

// A hidden tab gives its event stream up: a browser opens at most 6 connections to one
// server, so six tabs each holding one would leave none for a seventh. The run pauses
// 5 s after its last viewer leaves; the stream comes back when shown.
document.addEventListener("visibilitychange", () => {
  if (!session || !inPage) return;
  if (document.hidden) client.close();
  else client.listen(session, onFrame);
});

// settings and controls: one request at a time, in the order they were made, so play
// right after typing a value always comes after that value
let queue = Promise.resolve();
function enqueue(job) {
  queue = queue.then(job).catch(report);
  return queue;
}

function control(action) {
  return enqueue(() => client.request(`/api/session/${session}/control`, { action }).then(() => showError("")));
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

function sendSettings(changes) {
  return enqueue(() => trySettings(Object.assign(formValues(), changes), Object.keys(changes)));
}

async function trySettings(wanted, names) {
  root.querySelectorAll(".knob.bad").forEach((k) => k.classList.remove("bad"));
  try {
    const reply = await client.request(`/api/session/${session}/settings`, { settings: wanted });
    showError("");
    accepted(reply.settings);
    if (reply.applied === "rebuilt") hideBackprop(); // its graph was of the old model
  } catch (err) {
    if (err instanceof ServerDown) return;
    showError(err.message); // the server kept the model it had; so does the form
    fillForm(settings, true);
    const bad = names.find((n) => err.message.startsWith(n)) || names[0];
    const knob = root.querySelector(`[data-knob="${bad}"]`);
    if (knob) knob.classList.add("bad");
  }
}

// --- the settings form ------------------------------------------------------------
function knobRow(name, k) {
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
  } else {
    input = document.createElement("input");
    input.type = k.kind === "bool" ? "checkbox" : "text";
    if (k.kind !== "bool") input.inputMode = k.kind === "widths" ? "text" : "decimal";
  }
  input.id = "set-" + name;
  input.name = name;
  input.addEventListener("change", () => sendSettings({ [name]: k.kind === "bool" ? String(input.checked) : input.value }));
  row.appendChild(input);
  const used = document.createElement("span");
  used.className = "used";
  used.hidden = true;
  row.appendChild(used);
  return row;
}

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
    groups[k.group].appendChild(knobRow(name, k));
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
    if (!p) { // "choose a lesson…": the lesson's text goes, the settings stay
      lesson = "";
      showLesson();
      writeUrl();
      return;
    }
    const fresh = {};
    for (const [n, k] of Object.entries(schema)) fresh[n] = String(k.default);
    lesson = select.value;
    showLesson();
    sendSettings(Object.assign(fresh, p.changes));
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
  for (const [name, applies] of Object.entries(APPLIES)) {
    const row = root.querySelector(`[data-knob="${name}"]`);
    if (row) row.hidden = !applies(s);
  }
}

// the loss menu shows the loss in use: regression and 3+ classes have no choice
function showLossUsed(task) {
  const row = root.querySelector('[data-knob="loss"]');
  if (!row) return;
  const fixed = TASK_LOSS[task];
  row.querySelector("select").hidden = Boolean(fixed);
  const used = row.querySelector(".used");
  used.hidden = !fixed;
  used.textContent = fixed || "";
}

// --- the live views ---------------------------------------------------------------
function statusLine(s) {
  const last = (xs) => (xs.length ? xs[xs.length - 1] : null);
  // after early stopping the model in use is the restored checkpoint: show its numbers
  const r = s.restored;
  const acc = r ? r.val_acc : last(s.val_acc);
  const val = r
    ? ` · restored epoch ${r.epoch}: val loss ${fmt(r.val_loss)}`
    : ` · val loss ${fmt(last(s.val_loss))}` + (s.best_epoch ? ` (best: epoch ${s.best_epoch})` : "");
  // rates only while training: steps/s from the server, frames/s as this page got them
  const fps = received.length > 1 ? (received.length - 1) / ((received[received.length - 1] - received[0]) / 1000 || 1) : 0;
  const rates = s.running && s.perf.steps_per_s !== null
    ? ` · ${s.perf.steps_per_s.toFixed(1)} steps/s · ${fps.toFixed(1)} frames/s (each drawn in ${s.perf.frame_ms.toFixed(1)} ms)`
    : "";
  return `epoch ${s.epoch} · step ${s.step} · lr ${fmt(s.lr, 3)} · train loss ${fmt(last(s.train_loss))}` +
    val + (acc === null || acc === undefined ? "" : ` · val acc ${fmt(acc, 3)}`) + rates + (s.running ? " · training" : " · paused");
}

function draw() {
  const s = state;
  const status = $("status");
  status.textContent = statusLine(s);
  status.dataset.epoch = s.epoch;
  status.dataset.step = s.step;
  status.dataset.trainLoss = s.train_loss.length ? s.train_loss[s.train_loss.length - 1] : "";
  $("message").hidden = !s.message;
  $("message").textContent = s.message || "";
  $("note").hidden = !s.note;
  $("note").textContent = s.note || "";
  $("view-title").textContent = s.grid ? "decision boundary" : "fitted curve";
  showLossUsed(s.task);
  if (!drawDigits(root, s, (i) => openBackprop("val", i))) drawBoundary($("boundary"), s, points);
  drawLoss($("loss"), s, compared());
  drawRatios($("ratios"), s);
  drawNet($("net"), s, inspect, $("net-grads").checked);
  drawHists($("hists"), s);
}

// hovering the network: a unit's output over the input plane, or an edge's weight and
// the last step's dL/dw, asked of the server (at most one question at a time)
let asking = null;
function inspect(what, target) {
  if (asking) return;
  asking = client.request(`/api/session/${session}/inspect`, what).then((r) => {
    const box = $("inspector");
    box.hidden = false;
    $("inspect-title").textContent = r.title;
    $("inspect-edge").textContent = r.edge ? `w = ${fmt(r.edge.weight)}, dL/dw = ${fmt(r.edge.grad)} (last step's batch)` : "";
    drawHeatmap($("inspect-map"), r.heatmap);
    target.classList.add("inspected");
  }).catch(report).finally(() => { asking = null; });
}

// the canvas position (CSS pixels, relative to the canvas) of a point: used by clicks
function pointPixel(split, i) {
  const canvas = $("boundary");
  const p = points[split][i];
  const [px, py] = mapper(state, points, canvas)(p[0], p[1]);
  const r = canvas.getBoundingClientRect();
  return [(px * r.width) / canvas.width, (py * r.height) / canvas.height];
}

async function openBackprop(split, index) {
  try {
    const g = await client.request(`/api/session/${session}/backprop`, { split, index });
    showError("");
    showBackprop(g, split, index);
  } catch (err) {
    report(err);
  }
}

// Show the playground in `where` (the page's document, or a widget's element, already
// holding the page's elements), talking through the client `makeClient(handlers)` makes.
export function mount(where, makeClient, options) {
  root = where;
  inPage = !(options && options.widget);
  initial = (options && options.settings) || {};
  setRoot(where);
  client = makeClient({
    down: () => banner("lost the server (stopped or restarted?): reconnecting by itself…"),
    up: () => { banner(""); reopen().catch(report); },
  });
  $("boundary").addEventListener("click", (e) => {
    if (!state || !points) return;
    const r = e.target.getBoundingClientRect();
    const cx = e.clientX - r.left, cy = e.clientY - r.top;
    let best = null;
    for (const split of ["train", "val"]) {
      points[split].forEach((_, i) => {
        const [px, py] = pointPixel(split, i);
        const d = Math.hypot(px - cx, py - cy);
        if (d < 9 && (!best || d < best.d)) best = { split, i, d };
      });
    }
    if (best) openBackprop(best.split, best.i);
  });

  // keyboard users pick a sample by its number
  $("sample-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const [split, index] = [$("sample-split").value, Number($("sample-index").value)];
    if (Number.isInteger(index)) openBackprop(split, index);
  });

  wireStepper();
  $("net-grads").onchange = () => state && drawNet($("net"), state, inspect, $("net-grads").checked);
  $("compare").onchange = () => state && drawLoss($("loss"), state, compared());
  $("play").onclick = () => control("play");
  $("pause").onclick = () => control("pause");
  $("step").onclick = () => control("step");
  $("reset").onclick = () => {
    hideBackprop();
    if (state) remember(state);
    control("reset");
  };

  window.playground = {
    pointPixel, stepper,
    get state() { return state; }, get session() { return session; },
  };
  start().catch((err) => (err instanceof ServerDown ? null : showError("could not start: " + err.message)));
}
