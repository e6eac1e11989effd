// "Apply to several zones" in the page itself: the values typed once are copied into
// the zones ticked (or all), which can then be adjusted one by one. Without this
// script the same buttons post the form and the server fills the zones. What it says
// comes from the form's data-say-* attributes, translated by the template.
(function () {
  "use strict";
  var form = document.querySelector("form[data-apply-form]");
  if (!form) return;
  var FIELDS = ["needle_length_mm", "gauge", "depth_mm", "technique", "formula", "planned_volume_ml"];
  function say(what) {
    return form.getAttribute("data-say-" + what) || "";
  }
  var status = document.createElement("p");
  status.className = "small text-success mb-0";
  status.setAttribute("role", "status");
  form.querySelector("#apply .card-body").appendChild(status);

  function apply(which) {
    var rows = Array.prototype.filter.call(form.querySelectorAll("[data-zone-row]"), function (row) {
      return which === "all" || row.querySelector('input[name="apply-zones"]').checked;
    });
    if (!rows.length) {
      status.className = "small text-danger mb-0";
      status.textContent = say("none-ticked");
      return;
    }
    var filled = 0;
    FIELDS.forEach(function (name) {
      var value = form.elements["apply-" + name].value;
      if (value === "") return;
      filled += 1;
      rows.forEach(function (row) {
        var field = row.querySelector('[name$="-' + name + '"]');
        field.value = value;
        field.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
    status.className = "small text-success mb-0";
    // Counts are 1 or more here: English and French both use the singular for 1 only.
    status.textContent = filled
      ? say("filled-" + (filled > 1 ? "many" : "one") + "-" + (rows.length > 1 ? "many" : "one"))
          .replace("{fields}", filled)
          .replace("{zones}", rows.length)
      : say("nothing-filled");
  }

  form.querySelectorAll("[data-apply]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      apply(button.getAttribute("data-apply"));
    });
  });
})();
