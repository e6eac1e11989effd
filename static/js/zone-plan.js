// "Apply to several zones" in the page itself: the values typed once are copied into
// the zones ticked (or all), which can then be adjusted one by one. Without this
// script the same buttons post the form and the server fills the zones.
(function () {
  "use strict";
  var form = document.querySelector("form[data-apply-form]");
  if (!form) return;
  var FIELDS = ["needle_length_mm", "gauge", "depth_mm", "technique", "formula", "planned_volume_ml"];
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
      status.textContent = "Tick the zones to fill, or apply to all zones.";
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
    status.textContent = filled
      ? "Filled " + filled + " field" + (filled > 1 ? "s" : "") + " in " + rows.length +
        " zone" + (rows.length > 1 ? "s" : "") + ". Adjust any zone, then save the plan."
      : "Fill at least one value to apply.";
  }

  form.querySelectorAll("[data-apply]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      apply(button.getAttribute("data-apply"));
    });
  });
})();
