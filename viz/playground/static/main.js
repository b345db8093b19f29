// chainrule playground: draws what the Python side sends; it never computes the maths.
// The server (or, in a notebook, the kernel) trains with engine + nn and sends frames;
// this page sends settings and controls, draws the frames, and steps through the
// backprop steps recorded for a clicked sample.
//
// Each mount is a `Playground` of its own: its root element, session, client, listeners
// and timers. The page mounts one on the document; a notebook mounts one per widget view,
// so two widgets (or two views of one) on a page never drive or draw into each other.

import { drawHists, drawLoss, drawRatios, fmt } from "./charts.js";
import { ServerDown } from "./client.js";
import { drawDigits } from "./digits.js";
import { buildForm, fillForm, formValues, showLesson, showLossUsed } from "./form.js";
import { drawBoundary, drawHeatmap, drawNet, mapper } from "./network.js";
import { Stepper } from "./stepper.js";

const KEPT_RUNS = 5; // the runs one can compare with: each replaced run's validation losses
const TAB_KEY = "chainrule-session";
// the page keeps its session's key in the tab's storage: a reload gets the same session
const tabStore = { get: () => sessionStorage.getItem(TAB_KEY), set: (key) => sessionStorage.setItem(TAB_KEY, key) };

function statusLine(s, received) {
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

export class Playground {
  // `where`: the page's document, or a widget's element, already holding the page's
  // elements; `options.widget`: in a notebook (no URL, no tab storage of its own);
  // `options.store`: where the session's key is kept ({get, set}); `options.settings`:
  // the settings a new session starts with
  constructor(where, makeClient, options) {
    const o = options || {};
    this.root = where;
    this.inPage = !o.widget; // a page of its own: the URL and the tab's storage are ours
    this.initial = o.settings || {};
    this.store = o.store || (this.inPage ? tabStore : null);
    this.schema = {};
    this.presets = {};
    this.session = null;
    this.state = null; // the latest frame
    this.points = null; // the data's points, fetched once per model
    this.settings = {}; // the settings the server accepted
    this.lesson = ""; // the chosen preset, kept on screen and in the URL
    this.runs = []; // newest first; the one chosen in #compare is drawn dashed
    this.runCount = 0;
    this.received = []; // when frames arrived (frames/s counts what this mount got)
    this.queue = Promise.resolve();
    this.pending = 0; // settings sent and not answered yet
    this.asking = null;
    this.stepper = new Stepper(where);
    this.onFrame = (frame) => this.frame(frame);
    this.onVisibility = () => this.visibility();
    this.client = makeClient({
      down: () => this.banner("lost the server (stopped or restarted?): reconnecting by itself…"),
      up: () => { this.banner(""); this.reopen().catch((e) => this.report(e)); },
    });
  }

  $(id) {
    return this.root.querySelector("#" + id);
  }

  banner(message) {
    this.$("offline").textContent = message;
    this.$("offline").hidden = !message;
  }

  showError(message) {
    this.$("error").textContent = message || "";
    this.$("error").hidden = !message;
  }

  report(err) {
    if (!(err instanceof ServerDown)) this.showError(err.message);
  }

  writeUrl() {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(this.settings)) query.set(k, String(v));
    if (this.lesson) query.set("lesson", this.lesson);
    if (this.inPage) history.replaceState(null, "", "?" + query.toString());
  }

  accepted(s) {
    this.settings = s;
    fillForm(this, s);
    this.writeUrl();
  }

  async start() {
    const meta = await this.client.request("/api/meta");
    this.schema = meta.schema;
    this.presets = meta.presets;
    buildForm(this);
    const query = this.inPage ? Object.fromEntries(new URLSearchParams(location.search)) : { ...this.initial };
    this.lesson = query.lesson in this.presets ? query.lesson : "";
    delete query.lesson;
    showLesson(this);
    await this.reopen(query);
  }

  // this mount's session: the one its store keeps (the tab's before a reload, the
  // widget's for every view of it), else a new one
  async reopen(fromUrl) {
    const wanted = fromUrl || this.settings;
    const resume = (this.store && this.store.get()) || undefined;
    let made;
    try {
      made = await this.client.request("/api/session", { settings: wanted, resume });
    } catch (err) {
      if (err instanceof ServerDown) throw err;
      this.showError("the link's settings were refused: " + err.message + " (the defaults are used)");
      made = await this.client.request("/api/session", { settings: {} });
    }
    this.session = made.session;
    if (this.store) this.store.set(this.session);
    this.points = null;
    this.accepted(made.settings);
    if (!document.hidden || !this.inPage) this.client.listen(this.session, this.onFrame);
  }

  async frame(frame) {
    const now = performance.now();
    this.received.push(now);
    while (this.received.length && this.received[0] < now - 2000) this.received.shift();
    if (!this.points || this.points.data_version !== frame.data_version) {
      const wanted = frame.data_version;
      const got = await this.client.request(`/api/session/${this.session}/points`).catch(() => null);
      if (!got || got.data_version !== wanted) return; // a newer model came meanwhile
      if (this.points && this.state) this.remember(this.state);
      this.points = got;
    }
    // another view of the same widget changed the settings: this form shows them too
    const changed = frame.settings && JSON.stringify(frame.settings) !== JSON.stringify(this.settings);
    if (!this.inPage && changed && this.pending === 0) this.accepted(frame.settings);
    this.state = Object.assign(frame, { points: this.points });
    this.draw();
  }

  // the run being replaced, for the loss chart's comparison (its settings as its label)
  remember(s) {
    if (!s.val_loss.length) return;
    this.runCount += 1;
    const label = s.settings ? Object.entries(s.settings).map(([k, v]) => `${k}=${v}`).join("&") : "";
    const run = { id: this.runCount, name: `run ${this.runCount}`, val_loss: s.val_loss, stride: s.history_stride, label, epochs: s.epoch };
    this.runs = [run, ...this.runs].slice(0, KEPT_RUNS);
    const pick = this.$("compare");
    pick.innerHTML = "";
    pick.add(new Option("none", ""));
    for (const r of this.runs) {
      const o = new Option(`${r.name}: ${r.epochs} epochs, val ${fmt(r.val_loss[r.val_loss.length - 1], 3)}`, String(r.id));
      o.title = r.label; // its settings, on hover
      pick.add(o);
    }
    pick.value = String(this.runs[0].id); // the run just replaced, unless another is chosen
    pick.disabled = false;
  }

  // the earlier run the loss chart overlays, or null
  compared() {
    return this.runs.find((r) => String(r.id) === this.$("compare").value) || null;
  }

  // A hidden tab gives its event stream up: a browser opens at most 6 connections to one
  // server, so six tabs each holding one would leave none for a seventh. The run pauses
  // 5 s after its last viewer leaves; the stream comes back when shown.
  visibility() {
    if (!this.session) return;
    if (document.hidden) this.client.close();
    else this.client.listen(this.session, this.onFrame);
  }

  // settings and controls: one request at a time, in the order they were made, so play
  // right after typing a value always comes after that value
  enqueue(job) {
    this.queue = this.queue.then(job).catch((e) => this.report(e));
    return this.queue;
  }

  control(action) {
    return this.enqueue(() => this.client.request(`/api/session/${this.session}/control`, { action }).then(() => this.showError("")));
  }

  sendSettings(changes) {
    this.pending += 1;
    return this.enqueue(() => this.trySettings(Object.assign(formValues(this), changes), Object.keys(changes))
      .finally(() => { this.pending -= 1; }));
  }

  async trySettings(wanted, names) {
    this.root.querySelectorAll(".knob.bad").forEach((k) => k.classList.remove("bad"));
    try {
      const reply = await this.client.request(`/api/session/${this.session}/settings`, { settings: wanted });
      this.showError("");
      this.accepted(reply.settings);
      if (reply.applied === "rebuilt") this.stepper.hide(); // its graph was of the old model
    } catch (err) {
      if (err instanceof ServerDown) return;
      this.showError(err.message); // the server kept the model it had; so does the form
      fillForm(this, this.settings, true);
      const bad = names.find((n) => err.message.startsWith(n)) || names[0];
      const knob = this.root.querySelector(`[data-knob="${bad}"]`);
      if (knob) knob.classList.add("bad");
    }
  }

  // --- the live views -------------------------------------------------------------
  draw() {
    const s = this.state, $ = (id) => this.$(id);
    const status = $("status");
    status.textContent = statusLine(s, this.received);
    status.dataset.epoch = s.epoch;
    status.dataset.step = s.step;
    status.dataset.trainLoss = s.train_loss.length ? s.train_loss[s.train_loss.length - 1] : "";
    $("message").hidden = !s.message;
    $("message").textContent = s.message || "";
    $("note").hidden = !s.note;
    $("note").textContent = s.note || "";
    $("view-title").textContent = s.grid ? "decision boundary" : "fitted curve";
    showLossUsed(this, s.task);
    if (!drawDigits(this.root, s, (i) => this.openBackprop("val", i))) drawBoundary($("boundary"), s, this.points);
    drawLoss($("loss"), s, this.compared());
    drawRatios($("ratios"), s);
    this.drawNet();
    drawHists($("hists"), s);
  }

  drawNet() {
    if (this.state) drawNet(this.$("net"), this.state, (what, target) => this.inspect(what, target), this.$("net-grads").checked);
  }

  // hovering the network: a unit's output over the input plane, or an edge's weight and
  // the last step's dL/dw, asked of the server (at most one question at a time)
  inspect(what, target) {
    if (this.asking) return;
    this.asking = this.client.request(`/api/session/${this.session}/inspect`, what).then((r) => {
      this.$("inspector").hidden = false;
      this.$("inspect-title").textContent = r.title;
      this.$("inspect-edge").textContent = r.edge ? `w = ${fmt(r.edge.weight)}, dL/dw = ${fmt(r.edge.grad)} (last step's batch)` : "";
      drawHeatmap(this.$("inspect-map"), r.heatmap);
      target.classList.add("inspected");
    }).catch((e) => this.report(e)).finally(() => { this.asking = null; });
  }

  // the canvas position (CSS pixels, relative to the canvas) of a point: used by clicks
  pointPixel(split, i) {
    const canvas = this.$("boundary");
    const p = this.points[split][i];
    const [px, py] = mapper(this.state, this.points, canvas)(p[0], p[1]);
    const r = canvas.getBoundingClientRect();
    return [(px * r.width) / canvas.width, (py * r.height) / canvas.height];
  }

  async openBackprop(split, index) {
    try {
      const g = await this.client.request(`/api/session/${this.session}/backprop`, { split, index });
      this.showError("");
      this.stepper.show(g, split, index);
    } catch (err) {
      this.report(err);
    }
  }

  // a click on the data plane: the nearest point within 9 px, if any
  pick(e) {
    if (!this.state || !this.points) return;
    const r = e.target.getBoundingClientRect();
    const cx = e.clientX - r.left, cy = e.clientY - r.top;
    let best = null;
    for (const split of ["train", "val"]) {
      this.points[split].forEach((_, i) => {
        const [px, py] = this.pointPixel(split, i);
        const d = Math.hypot(px - cx, py - cy);
        if (d < 9 && (!best || d < best.d)) best = { split, i, d };
      });
    }
    if (best) this.openBackprop(best.split, best.i);
  }

  wire() {
    const $ = (id) => this.$(id);
    $("boundary").addEventListener("click", (e) => this.pick(e));
    // keyboard users pick a sample by its number
    $("sample-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const [split, index] = [$("sample-split").value, Number($("sample-index").value)];
      if (Number.isInteger(index)) this.openBackprop(split, index);
    });
    this.stepper.wire();
    $("net-grads").onchange = () => this.drawNet();
    $("compare").onchange = () => this.state && drawLoss($("loss"), this.state, this.compared());
    $("play").onclick = () => this.control("play");
    $("pause").onclick = () => this.control("pause");
    $("step").onclick = () => this.control("step");
    $("reset").onclick = () => {
      this.stepper.hide();
      if (this.state) this.remember(this.state);
      this.control("reset");
    };
    if (this.inPage) document.addEventListener("visibilitychange", this.onVisibility);
  }

  // the view is gone (a notebook's output cleared): its listeners and stream go too
  dispose() {
    this.stepper.dispose();
    document.removeEventListener("visibilitychange", this.onVisibility);
    if (this.client.dispose) this.client.dispose();
    else this.client.close();
  }
}

// Show the playground in `where`, talking through the client `makeClient(handlers)` makes;
// returns the mount (its `dispose()` undoes it). Tests reach a mount as `where.playground`
// (and the page's as `window.playground`).
export function mount(where, makeClient, options) {
  const pg = new Playground(where, makeClient, options);
  pg.wire();
  where.playground = pg;
  if (pg.inPage) window.playground = pg;
  pg.start().catch((err) => (err instanceof ServerDown ? null : pg.showError("could not start: " + err.message)));
  return pg;
}
