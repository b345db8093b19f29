// The stepper page's controls: buttons, slider and keys drive crStepper (stepper.js).
"use strict";
(() => {
  const stepper = crStepper(document, DATA);
  const go = (k) => stepper.show(k);
  document.getElementById("prev").onclick = () => go(stepper.shown() - 1);
  document.getElementById("next").onclick = () => go(stepper.shown() + 1);
  document.getElementById("slider").oninput = (e) => go(Number(e.target.value));
  document.addEventListener("keydown", (e) => {
    if (e.key === "ArrowRight") go(stepper.shown() + 1);
    if (e.key === "ArrowLeft") go(stepper.shown() - 1);
    if (e.key === "Home") go(0);
    if (e.key === "End") go(stepper.total);
  });
  go(0);
})();
