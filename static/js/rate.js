// Keyboard-first rating: digits score the highlighted domain and move on, Enter submits.
// Each score is saved by htmx as soon as its radio changes; this file only adds the keys,
// the highlight and the "is the reviewer here" signal used for active reading time.
(function () {
  "use strict";
  const layout = document.querySelector(".rate-layout");
  if (!layout) return;
  const scaleMin = Number(layout.dataset.scaleMin);
  const scaleMax = Number(layout.dataset.scaleMax);
  let current = 0;
  let lastActivity = Date.now();

  window.synthreportsActive = function () {
    return Date.now() - lastActivity < 120000;
  };
  ["keydown", "mousemove", "scroll", "touchstart", "click"].forEach(function (type) {
    document.addEventListener(type, function () { lastActivity = Date.now(); }, { passive: true });
  });

  function domains() {
    return Array.from(document.querySelectorAll("fieldset.domain"));
  }

  function highlight(index, moveFocus, keepScroll) {
    const all = domains();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (el, i) { el.classList.toggle("current", i === current); });
    if (moveFocus) {
      const target = all[current].querySelector("input:checked") || all[current].querySelector("input");
      if (target) target.focus({ preventScroll: Boolean(keepScroll) });
    }
  }

  function firstUnscored() {
    const all = domains();
    const index = all.findIndex(function (el) { return !el.querySelector("input:checked"); });
    return index === -1 ? 0 : index;
  }

  function valueForKey(key) {
    if (!/^[0-9]$/.test(key)) return null;
    let value = Number(key);
    if (value === 0) value = 10;
    if (value < scaleMin || value > scaleMax) return null;
    return value;
  }

  document.addEventListener("focusin", function (event) {
    const fieldset = event.target.closest && event.target.closest("fieldset.domain");
    if (fieldset) highlight(domains().indexOf(fieldset), false);
  });

  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (target.matches("textarea, input[type=text], select")) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "Enter") {
      const form = document.getElementById("submit-form");
      if (form && document.getElementById("submit-button")) {
        event.preventDefault();
        form.requestSubmit();
      }
      return;
    }
    const value = valueForKey(event.key);
    if (value === null) return;
    const fieldset = domains()[current];
    if (!fieldset) return;
    const radio = fieldset.querySelector('input[type=radio][value="' + value + '"]');
    if (!radio || radio.disabled) return;
    event.preventDefault();
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
    // The saved row comes back from the server and replaces this one; move on now so
    // fast typists are not held up by the round trip.
    highlight(current + 1, true);
  });

  // A saved row is swapped in whole; if it held the focus, put the focus back on the
  // highlighted domain so the keyboard flow goes on.
  document.body.addEventListener("htmx:afterSettle", function () {
    const lost = !document.activeElement || document.activeElement === document.body;
    highlight(current, lost);
  });

  // On arrival the reader starts at the top of the report (on a tablet the ratings are
  // below it), so take the focus without scrolling to it.
  highlight(firstUnscored(), true, true);
})();
