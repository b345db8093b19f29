// The notebook widget (chainrule.viz.widgets.Stepper, anywidget): this file follows
// stepper.js in one ES module. The model holds the drawing (svg), its data, the frame
// shown and, in quiz mode, the question; the answer goes to Python, which checks it and
// moves the frame on (the page never knows an answer before it is earned).
function html(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function render({ model, el }) {
  el.classList.add("cr-stepper");
  const controls = html("div", "cr-controls");
  const prev = html("button", "cr-prev", "← previous");
  const slider = html("input", "cr-slider");
  slider.type = "range"; slider.min = 0; slider.value = 0;
  const next = html("button", "cr-next", "next →");
  controls.append(prev, slider, next, html("span", "cr-counter"));
  const quiz = html("div", "cr-quiz");
  const question = html("div", "cr-question");
  const form = html("form", "cr-answer");
  const input = html("input");
  input.setAttribute("aria-label", "your answer");
  const check = html("button", "", "check");
  form.append(input, " ", check);
  const verdict = html("div", "cr-verdict");
  quiz.append(question, form, verdict);
  const legend = html("div", "cr-legend");
  legend.innerHTML = model.get("legend");  // written and escaped by stepper._legend_html
  const frame = html("div", "cr-frame");
  frame.innerHTML = model.get("svg");  // dot's SVG; every label escaped by the drawing
  el.append(controls, html("div", "cr-caption"), quiz, legend, frame);
  const data = model.get("data");
  const stepper = crStepper(el, data);

  let asked = null;  // the edge the question is about: dashed, in the step colour
  function mark(on) {
    if (!asked) return;
    for (const p of asked.querySelectorAll("path, polygon")) {
      if (on) { p.setAttribute("stroke", data.palette.edge); p.setAttribute("stroke-dasharray", "5 3"); }
      else p.removeAttribute("stroke-dasharray");
      if (!on && p.getAttribute("stroke") === data.palette.edge && !shownEdge(asked.id)) p.setAttribute("stroke", "black");
    }
  }
  const shownEdge = (id) => stepper.shown() > 0 && data.steps[stepper.shown() - 1].edges.includes(id);
  function refresh() {  // the kernel sends a step's numbers only once it is revealed (quiz)
    model.get("data").steps.forEach((s, k) => Object.assign(data.steps[k], s));
  }
  function update() {
    refresh();
    const quizzing = model.get("quiz");
    mark(false);
    stepper.show(model.get("frame"));
    asked = quizzing && model.get("asking") ? el.querySelector(`[id="${CSS.escape(model.get("asking"))}"]`) : null;
    mark(true);
    for (const b of [prev, next, slider]) b.disabled = quizzing;
    quiz.hidden = !quizzing;
    question.textContent = model.get("question") || "Done: every gradient is known.";
    form.hidden = !model.get("question");
  }
  function go(k) {
    if (model.get("quiz")) return;
    model.set("frame", Math.max(0, Math.min(stepper.total, k)));
    model.save_changes();
  }
  prev.onclick = () => go(stepper.shown() - 1);
  next.onclick = () => go(stepper.shown() + 1);
  slider.oninput = () => go(Number(slider.value));
  form.onsubmit = (e) => {
    e.preventDefault();
    model.set("answer", input.value);
    model.save_changes();
  };
  model.on("change:verdict", () => {
    const v = model.get("verdict");
    verdict.textContent = v.message || "";
    verdict.className = "cr-verdict " + (v.right ? "right" : "wrong");
    if (v.right) input.value = "";
  });
  for (const name of ["data", "frame", "quiz", "question", "asking"]) model.on("change:" + name, update);
  update();
}

export default { render };
