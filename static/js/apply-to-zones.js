// "Apply to several zones" in the page itself (the zone plan and the session form): each
// value typed once in the box (#apply) is copied into the same field of the zones ticked
// (or all), which can then be adjusted one by one; a blank value leaves them as they are.
// The box's own fields name what they fill ("apply-gauge" fills each zone's "-gauge").
// A "default needle" button (data-apply="needle") puts the patient's default needle in
// the zones the server marked data-needle-off. Without this script the same buttons post
// the form and the server does the same. What it says comes from the data-say-*
// attributes of the box's [data-apply-messages], translated by the template.
(function () {
  "use strict";
  var box = document.querySelector("#apply");
  var messages = box && box.querySelector("[data-apply-messages]");
  if (!messages) return;
  var form = box.closest("form");
  function say(what) {
    return messages.getAttribute("data-say-" + what) || "";
  }
  var status = document.createElement("p");
  status.className = "small text-success mb-0";
  status.setAttribute("role", "status");
  (box.querySelector(".card-body") || box).appendChild(status);

  function tell(text, failed) {
    status.className = "small mb-0 " + (failed ? "text-danger" : "text-success");
    status.textContent = text;
  }

  // Sets a zone's field; false where a list does not offer the value.
  function set(field, value) {
    if (field.tagName === "SELECT" && !Array.prototype.some.call(field.options, function (o) {
      return o.value === value;
    })) {
      return false;
    }
    field.value = value;
    field.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  function zoneName(row) {
    var legend = row.querySelector("legend");
    return legend ? legend.textContent.trim() : "";
  }

  function apply(which) {
    var rows = Array.prototype.filter.call(form.querySelectorAll("[data-zone-row]"), function (row) {
      var tick = row.querySelector('input[name="apply-zones"]');
      return which === "all" || (tick && tick.checked);
    });
    if (!rows.length) {
      tell(say("none-ticked"), true);
      return;
    }
    var filled = 0;
    var refused = [];
    box.querySelectorAll("input[name^='apply-'], select[name^='apply-']").forEach(function (source) {
      if (source.name === "apply-zones" || source.value === "") return;
      var name = source.name.slice("apply-".length);
      filled += 1;
      rows.forEach(function (row) {
        var field = row.querySelector('[name$="-' + name + '"]');
        if (field && !set(field, source.value) && refused.indexOf(zoneName(row)) < 0) {
          refused.push(zoneName(row));
        }
      });
    });
    if (!filled) {
      tell(say("nothing-filled"), true);
      return;
    }
    // Counts are 1 or more here: English and French both use the singular for 1 only.
    var text = say("filled-" + (filled > 1 ? "many" : "one") + "-" + (rows.length > 1 ? "many" : "one"))
      .replace("{fields}", filled)
      .replace("{zones}", rows.length);
    if (refused.length) text += " " + say("not-offered").replace("{zones}", refused.join(", "));
    tell(text, false);
  }

  function defaultNeedle(button) {
    var rows = form.querySelectorAll("[data-zone-row][data-needle-off]");
    rows.forEach(function (row) {
      set(row.querySelector('[name$="-needle_length_mm"]'), button.getAttribute("data-length"));
      set(row.querySelector('[name$="-gauge"]'), button.getAttribute("data-gauge"));
      row.removeAttribute("data-needle-off");
    });
    button.disabled = true;
    tell(say("needle").replace("{zones}", rows.length), false);
  }

  form.querySelectorAll("[data-apply]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (button.getAttribute("data-apply") === "needle") defaultNeedle(button);
      else apply(button.getAttribute("data-apply"));
    });
  });
})();
