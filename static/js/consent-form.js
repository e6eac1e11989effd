// Show the wording of the chosen consent, and only the signature input for the chosen method.
// Without JavaScript everything stays visible and the form still works.
(function () {
  "use strict";
  var form = document.querySelector("[data-consent-wordings]");
  if (!form) return;
  var select = document.getElementById("id_template");
  function showWording() {
    document.querySelectorAll(".consent-wording").forEach(function (article) {
      article.hidden = article.dataset.template !== select.value;
    });
  }
  function showMethod() {
    var chosen = document.querySelector("input[name=method]:checked");
    document.querySelectorAll("[data-method]").forEach(function (block) {
      block.hidden = chosen !== null && block.dataset.method !== chosen.value;
    });
  }
  select.addEventListener("change", showWording);
  document.querySelectorAll("input[name=method]").forEach(function (radio) {
    radio.addEventListener("change", showMethod);
  });
  showWording();
  showMethod();
})();
