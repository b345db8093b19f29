// The playground's settings form and its lessons: built from the server's schema, filled
// from the settings it accepted. Each function is given the mount `pg` it belongs to (its
// elements under pg.root, its schema, presets and lesson), so two widgets on one page
// each have a form of their own.

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

export function showLesson(pg) {
  const p = pg.presets[pg.lesson];
  pg.$("lesson").hidden = !p;
  pg.$("lesson").textContent = p ? `${pg.lesson}: ${p.help}` : "";
  pg.$("preset").value = p ? pg.lesson : "";
}

// the form as the server should see it: every knob's current value, as text
export function formValues(pg) {
  const values = {};
  for (const [name, k] of Object.entries(pg.schema)) {
    const input = pg.$("set-" + name);
    values[name] = k.kind === "bool" ? String(input.checked) : input.value;
  }
  return values;
}

function knobRow(pg, name, k) {
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
  input.addEventListener("change", () => pg.sendSettings({ [name]: k.kind === "bool" ? String(input.checked) : input.value }));
  row.appendChild(input);
  const used = document.createElement("span");
  used.className = "used";
  used.hidden = true;
  row.appendChild(used);
  return row;
}

// a lesson chosen: the defaults, then the lesson's changes
function choosePreset(pg, name) {
  const p = pg.presets[name];
  if (!p) { // "choose a lesson…": the lesson's text goes, the settings stay
    pg.lesson = "";
    showLesson(pg);
    pg.writeUrl();
    return;
  }
  const fresh = {};
  for (const [n, k] of Object.entries(pg.schema)) fresh[n] = String(k.default);
  pg.lesson = name;
  showLesson(pg);
  pg.sendSettings(Object.assign(fresh, p.changes));
}

export function buildForm(pg) {
  const form = pg.$("settings");
  const groups = {};
  for (const [name, k] of Object.entries(pg.schema)) {
    if (!groups[k.group]) {
      const fs = document.createElement("fieldset");
      const legend = document.createElement("legend");
      legend.textContent = k.group;
      fs.appendChild(legend);
      form.appendChild(fs);
      groups[k.group] = fs;
    }
    groups[k.group].appendChild(knobRow(pg, name, k));
  }
  form.addEventListener("submit", (e) => e.preventDefault());
  const select = pg.$("preset");
  for (const [name, p] of Object.entries(pg.presets)) {
    const option = new Option(name, name);
    option.title = p.help;
    select.add(option);
  }
  select.addEventListener("change", () => choosePreset(pg, select.value));
}

// `force`: also the knob being edited (a refused value is put back)
export function fillForm(pg, s, force) {
  for (const [name, value] of Object.entries(s)) {
    const input = pg.$("set-" + name);
    if (!input || (input === document.activeElement && !force)) continue; // being typed in
    if (input.type === "checkbox") input.checked = Boolean(value);
    else input.value = String(value);
  }
  for (const [name, applies] of Object.entries(APPLIES)) {
    const row = pg.root.querySelector(`[data-knob="${name}"]`);
    if (row) row.hidden = !applies(s);
  }
}

// the loss menu shows the loss in use: regression and 3+ classes have no choice
export function showLossUsed(pg, task) {
  const row = pg.root.querySelector('[data-knob="loss"]');
  if (!row) return;
  const fixed = TASK_LOSS[task];
  row.querySelector("select").hidden = Boolean(fixed);
  const used = row.querySelector(".used");
  used.hidden = !fixed;
  used.textContent = fixed || "";
}
