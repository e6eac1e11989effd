// After a failed save: focus the error summary (a screen reader reads it out, the
// keyboard starts there) and, when one of its links is followed, the field it names.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    target.scrollIntoView({ block: "center" });
    if (typeof target.focus === "function") target.focus();
  });
})();
