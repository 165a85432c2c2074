/* NETcare progressive enhancement. Every page works without it. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  function showPrintButtons(root) {
    root.querySelectorAll("[data-print]").forEach(function (button) { button.hidden = false; });
  }

  ready(function () { showPrintButtons(document); });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
  });

  // Ticking a treatment means prior therapies are known: choose "These treatments".
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.matches && box.matches('input[type="checkbox"][name="prior_therapies"]') && box.checked && box.form) {
      var given = box.form.querySelector('input[name="prior_therapies_known"][value="given"]');
      if (given) { given.checked = true; }
    }
  });

  // The check form is sent by GET, so that the result's address holds its facts. Leave out the
  // facts left unknown (absent means unknown): the address stays short enough to share. Without
  // JavaScript the form sends every field, which means the same. One field is always kept, since
  // /check/ with no query at all is the empty form rather than a result.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-short-address]") || event.defaultPrevented) { return; }
    var keep = form.getAttribute("data-short-address");
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (name === keep || (value !== "" && value !== "unknown")) { params.append(name, value); }
    });
    event.preventDefault();
    window.location.assign(form.action + "?" + params.toString());
  });

  // After a failed submission, take keyboard and screen-reader users to the list of problems.
  ready(function () {
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  });

  // After a what-if update, move focus to what changed (or to the errors), so that keyboard and
  // screen-reader users land on the news rather than on a button that was replaced.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "result-region") { return; }
    showPrintButtons(document);
    var heading = document.getElementById("whatif-errors-title") || document.getElementById("what-changed-title");
    if (heading) { heading.focus(); }
  });
})();
