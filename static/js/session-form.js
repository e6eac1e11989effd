// Choosing a mixture shows its lot fields (the lots usable on the session date) and
// what the formulary says of it, drawn by the server, without saving. Without this
// script a save does the same.
(function () {
  "use strict";
  var form = document.querySelector("form[data-injection-lots]");
  if (!form) return;
  var url = form.getAttribute("data-injection-lots");

  function value(name) {
    var field = form.elements[name];
    return field ? field.value : "";
  }

  function refresh(select) {
    var prefix = select.name.replace(/-formula$/, "");
    var box = form.querySelector('[data-lots-for="' + prefix + '"]');
    if (!box) return;
    var query = new URLSearchParams({
      prefix: prefix,
      formula: select.value,
      location: value("location"),
      date: value("performed_at"),
    });
    // The lots already chosen stay chosen where they are still offered.
    box.querySelectorAll('select[name^="' + prefix + '-lot_"]').forEach(function (lot) {
      query.append(lot.name.slice(prefix.length + 1), lot.value);
    });
    box.setAttribute("aria-busy", "true");
    fetch(url + "?" + query.toString(), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("lots: " + response.status);
        return response.text();
      })
      .then(function (html) {
        box.innerHTML = html;
      })
      .catch(function () {
        // The message is the form's data-lots-failed, in the page's language.
        var note = document.createElement("div");
        note.className = "col-12 small text-danger";
        note.textContent = form.getAttribute("data-lots-failed");
        box.insertBefore(note, box.firstChild);
      })
      .finally(function () {
        box.removeAttribute("aria-busy");
      });
  }

  function formulaSelects() {
    return form.querySelectorAll('select[name$="-formula"]');
  }

  // "All six done" ticks the checklist's boxes (each can still be unticked with a reason).
  var checkAll = form.querySelector("[data-check-all]");
  if (checkAll) {
    checkAll.hidden = false;
    checkAll.addEventListener("click", function () {
      form.querySelectorAll('.checklist input[type="checkbox"]').forEach(function (box) {
        box.checked = true;
      });
    });
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches('[name$="-needle_length_mm"], [name$="-needle_override_reason"]')) {
      // A needle changed by hand, or a reason applied: the reason field opens beneath the
      // zone's line (the default needle put in by the box's button needs none).
      var row = target.closest("[data-zone-row]");
      var reason = row && row.querySelector("[data-needle-reason]");
      var isReason = target.name.slice(-"needle_override_reason".length) === "needle_override_reason";
      if (reason && target.value !== "" && (isReason || event.isTrusted)) reason.hidden = false;
    }
    if (target.matches('select[name$="-formula"]')) {
      refresh(target);
    } else if (target.name === "location" || target.name === "performed_at") {
      // Another date or place: other lots are usable, other formulary rules apply.
      formulaSelects().forEach(refresh);
    }
  });
})();
