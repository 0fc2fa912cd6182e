// Keyboard for the review page: Space or Enter shows the answer, 1–4 rate, u undoes.
// Each key presses a button or link of the page, so htmx (or a plain form) does the rest.
(function () {
  "use strict";

  function region() {
    return document.getElementById("review-region");
  }

  function press(key) {
    const current = region();
    const target = current && current.querySelector('[data-key="' + key + '"]');
    if (!target) return false;
    // A fast key right after a swap may come before htmx has wired up the new buttons;
    // processing again is harmless and keeps the press from becoming a full page load.
    if (window.htmx) window.htmx.process(current);
    target.click();
    return true;
  }

  // When the front of the current card appeared: a flip keeps it, the next card resets it.
  let shownAt = Date.now();
  function markShown() {
    const current = region();
    if (current && !current.querySelector(".is-flipped")) shownAt = Date.now();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    let handled = false;
    if (event.key === " " || event.key === "Enter") {
      // Enter on a focused button or link already presses it: leave that to the browser.
      if (event.key === "Enter" && (tag === "button" || tag === "a")) return;
      handled = press("flip");
    } else if (["1", "2", "3", "4"].includes(event.key)) {
      handled = press(event.key);
    } else if (event.key === "u" || event.key === "U") {
      handled = press("undo");
    }
    if (handled) event.preventDefault();
  });

  // How long the learner looked at the card before rating it, sent with the rating.
  document.addEventListener("submit", function (event) {
    const field = event.target.querySelector('input[name="duration_ms"]');
    if (field) field.value = String(Date.now() - shownAt);
  }, true);
  document.addEventListener("htmx:configRequest", function (event) {
    const parameters = event.detail.parameters;
    if (parameters && "duration_ms" in parameters) parameters.duration_ms = String(Date.now() - shownAt);
  });
  document.addEventListener("htmx:afterSwap", markShown);
  document.addEventListener("DOMContentLoaded", markShown);
})();
