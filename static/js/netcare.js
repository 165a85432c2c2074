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

/* The meeting's list: Move up / Move down post the whole new order with htmx and swap only the
   list (no page reload); a case can also be dragged to its place. Focus returns to the moved case's
   button and a polite live region says what happened. Without JavaScript the buttons post forms. */
(function () {
  "use strict";

  function say(text) {
    var status = document.getElementById("reorder-status");
    if (status) { status.textContent = ""; window.setTimeout(function () { status.textContent = text; }, 50); }
  }

  var lastMoved = null;
  var lastLabel = "";

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("[data-reorder]")) { return; }
    var moved = form.querySelector('input[name="moved"]');
    lastMoved = moved ? moved.value : null;
    var button = form.querySelector("button");
    lastLabel = button ? button.textContent.trim().split(/\s+/).slice(0, 2).join(" ") : "";
  });

  // A refused reorder (the list changed meanwhile: 409) still replaces the list, so the user sees it as it is.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.elt.matches && event.detail.elt.matches("[data-reorder]") && event.detail.xhr.status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      say("The list changed since you opened the page, so the order was not changed. Try again.");
      lastMoved = null;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (!lastMoved || !event.detail.target || event.detail.target.id !== "worklist") { return; }
    var item = document.getElementById("case-" + lastMoved);
    lastMoved = null;
    if (!item) { return; }
    var items = Array.prototype.slice.call(document.querySelectorAll("#worklist .work-item"));
    say("Order changed: case " + item.dataset.reference + " is now number " + (items.indexOf(item) + 1) +
      " of " + items.length + ".");
    var buttons = Array.prototype.slice.call(item.querySelectorAll("form[data-reorder] button"));
    var same = buttons.filter(function (b) { return lastLabel && b.textContent.trim().indexOf(lastLabel) === 0; })[0];
    var target = same || buttons[0] || item.querySelector("h3 a");
    if (target) { target.focus(); }
  });

  // Drag and drop: drop a case before the one under the pointer, then post the whole order.
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest("#worklist .work-item[draggable]");
    if (!item) { return; }
    dragged = item;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.case);
  });
  document.addEventListener("dragover", function (event) {
    if (dragged && event.target.closest && event.target.closest("#worklist .work-item")) { event.preventDefault(); }
  });
  document.addEventListener("drop", function (event) {
    var over = event.target.closest && event.target.closest("#worklist .work-item");
    if (!dragged || !over || over === dragged) { dragged = null; return; }
    event.preventDefault();
    var rect = over.getBoundingClientRect();
    over.parentNode.insertBefore(dragged, event.clientY > rect.top + rect.height / 2 ? over.nextSibling : over);
    var form = document.getElementById("reorder-form");
    if (form && window.htmx) {
      form.querySelectorAll('input[name="cases"]').forEach(function (input) { input.remove(); });
      document.querySelectorAll("#worklist .work-item").forEach(function (item) {
        var input = document.createElement("input");
        input.type = "hidden"; input.name = "cases"; input.value = item.dataset.case;
        form.appendChild(input);
      });
      form.querySelector('input[name="moved"]').value = dragged.dataset.case;
      lastLabel = "";
      window.htmx.trigger(form, "submit");
    }
    dragged = null;
  });
})();

/* A review's reasons: only those that fit the chosen decision can be picked (the server refuses the
   others anyway, with a message by the field). Groups are labelled "Reasons to accept", ... */
(function () {
  "use strict";

  function fit(radio) {
    var form = radio.form;
    var select = form && form.querySelector('select[name$="-reason_code"]');
    if (!select) { return; }
    select.querySelectorAll("optgroup").forEach(function (group) {
      group.disabled = group.label.split(/\s+/).indexOf(radio.value) === -1;
    });
    var chosen = select.options[select.selectedIndex];
    if (chosen && chosen.parentNode.disabled) { select.value = ""; }
  }

  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (radio.matches && radio.matches('input[type="radio"][name$="-decision"]')) { fit(radio); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll('input[type="radio"][name$="-decision"]:checked').forEach(fit);
  });
})();
