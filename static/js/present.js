/* Meeting mode: keyboard shortcuts for the room's screen. Everything they do is also a link or a
   button reachable with Tab; without JavaScript the page works the same, without the shortcuts. */
(function () {
  "use strict";

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  // The option the user is on: the one holding the focus, else the one at the URL's #option-...,
  // else the first.
  function currentOption() {
    var active = document.activeElement;
    var option = active && active.closest ? active.closest(".option") : null;
    if (!option && location.hash.indexOf("#option-") === 0) { option = document.querySelector(location.hash); }
    return option || document.querySelector(".present-options .option");
  }

  function review(decision) {
    var option = currentOption();
    if (!option) { return; }
    var details = option.querySelector("details.review-details");
    if (!details) { return; }
    details.open = true;
    var radio = details.querySelector('input[type="radio"][value="' + decision + '"]');
    if (radio) {
      radio.checked = true;
      radio.dispatchEvent(new Event("change", { bubbles: true }));  // the reasons that fit follow
    }
    var reason = details.querySelector("select");
    (reason || radio).focus();
  }

  function outcome() {
    var details = document.querySelector(".outcome-panel details");
    if (details) { details.open = true; }
    var target = document.querySelector(".outcome-panel details input:not([type=hidden])") ||
      document.querySelector(".outcome-panel h4");
    if (target) {
      if (!target.hasAttribute("tabindex") && target.tagName === "H4") { target.setAttribute("tabindex", "-1"); }
      target.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-present]");
    if (!root) { return; }
    var dialog = document.getElementById("shortcuts");
    var opener = root.querySelector("[data-shortcuts-open]");
    if (opener && dialog && dialog.showModal) {
      opener.hidden = false;
      opener.addEventListener("click", function () { dialog.showModal(); });
    }
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
      if (dialog && dialog.open && event.key !== "?") { return; }
      var key = event.key;
      if (key === "j" || key === "J") {
        if (root.dataset.next) { location.href = root.dataset.next; }
      } else if (key === "k" || key === "K") {
        if (root.dataset.previous) { location.href = root.dataset.previous; }
      } else if (key === "a" || key === "A") { review("accept"); }
      else if (key === "r" || key === "R") { review("reject"); }
      else if (key === "d" || key === "D") { review("defer"); }
      else if (key === "o" || key === "O") { outcome(); }
      else if (key === "?") {
        if (!dialog || !dialog.showModal) { return; }
        if (dialog.open) { dialog.close(); } else { dialog.showModal(); }
      } else { return; }
      event.preventDefault();
    });
  });
})();
