// Click (or Enter/Space on) a region of the body diagram to tick its checkbox, and back.
// The checkbox list is the real form input; without JavaScript it works on its own.
(function () {
  "use strict";
  // The skip link puts the keyboard on the field after the diagram (a plain link would only
  // scroll there and move the starting point of the next Tab).
  document.querySelectorAll("[data-skip-diagram]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      event.preventDefault();
      target.focus();
    });
  });
  document.querySelectorAll("[data-body-diagram].interactive").forEach(function (diagram) {
    var form = diagram.closest("form");
    if (!form) return;
    function box(code) {
      return form.querySelector('input[type=checkbox][value="' + code + '"]');
    }
    function paint(code, on) {
      diagram.querySelectorAll('[data-region="' + code + '"]').forEach(function (shape) {
        shape.classList.toggle("selected", on);
        shape.setAttribute("aria-checked", on ? "true" : "false");
      });
    }
    function toggle(shape) {
      var input = box(shape.dataset.region);
      if (!input) return;
      input.checked = !input.checked;
      paint(shape.dataset.region, input.checked);
    }
    // Regions too thin to touch in the whole-body views are chosen in the close-up.
    diagram.querySelectorAll(".region[tabindex]").forEach(function (shape) {
      shape.addEventListener("click", function () { toggle(shape); });
      shape.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          toggle(shape);
        }
      });
    });
    form.querySelectorAll("input[type=checkbox]").forEach(function (input) {
      input.addEventListener("change", function () { paint(input.value, input.checked); });
      paint(input.value, input.checked);
    });
  });
})();
