// Keyboard-first rating that is safe for reading. The report holds the focus on arrival, so
// Space, PageDown and the arrows scroll it; only digits score, and only the highlighted
// domain. Each score is saved by htmx as soon as its radio changes; this file adds the keys,
// the highlight, undo, the phone/tablet one-domain bar and the active reading time sent with
// every save (and by a beat or on leaving the page when no save carried it).
(function () {
  "use strict";
  const layout = document.querySelector(".rate-layout");
  if (!layout) return;
  const scaleMin = Number(layout.dataset.scaleMin);
  const scaleMax = Number(layout.dataset.scaleMax);
  const report = document.getElementById("report");
  const form = document.getElementById("submit-form");
  const sheet = document.getElementById("shortcut-sheet");
  const IDLE_MS = 60000;
  let current = 0;
  const undoStack = [];

  // A submit answers with the next report's page (see the submit below) at the submit's
  // address: show the report's own, so that a reload or a bookmark is a GET of this report.
  if (layout.dataset.url && window.location.pathname !== layout.dataset.url) {
    window.history.replaceState(null, "", layout.dataset.url);
  }

  // ---- Active reading time --------------------------------------------------------------
  // Counted while the page is visible, the window focused and the reviewer not idle (no
  // input for 60 s), in milliseconds since the page was served. Every save, undo, submit
  // and 15 s beat sends the running total of this visit: the server adds what it has not
  // counted yet (capped by the wall time), so a lost or reordered request loses nothing.
  let banked = 0;
  let segmentStart = null;
  let lastInput = Date.now();

  function engaged(now) {
    return document.visibilityState === "visible" && document.hasFocus() && now - lastInput < IDLE_MS;
  }
  function settle(now) {
    if (segmentStart !== null) {
      const end = Math.min(now, lastInput + IDLE_MS);
      if (end > segmentStart) banked += end - segmentStart;
    }
    segmentStart = engaged(now) ? now : null;
  }
  function visitActiveMs() {
    settle(Date.now());
    return Math.round(banked);
  }
  ["keydown", "pointerdown", "pointermove", "wheel", "scroll", "touchstart"].forEach(function (type) {
    document.addEventListener(type, function () {
      const now = Date.now();
      settle(now);
      lastInput = now;
      if (segmentStart === null && engaged(now)) segmentStart = now;
    }, { passive: true, capture: true });
  });
  ["focus", "blur"].forEach(function (type) {
    window.addEventListener(type, function () { settle(Date.now()); });
  });
  document.addEventListener("visibilitychange", function () { settle(Date.now()); });
  settle(Date.now());

  // ---- Reporting it: what the server has been sent ----------------------------------------
  // Saves, undos and the submit carry the running total. A beat (#heartbeat) goes out at
  // most once a minute, and only with reading time nothing else has carried yet; leaving the
  // page (another tab, navigating away, closing it) sends what is left with sendBeacon, so a
  // normal visit loses nothing and a crash at most a minute. Until issue 21 the beat went
  // every 15 s whatever had been sent: 4 to 8 requests per report read for 1 to 2 minutes,
  // on top of the 8 that rate it.
  const BEAT_MS = 60000;
  // Under a second of reading not sent yet is not worth a request (it goes with the next).
  const MIN_UNSENT_MS = 1000;
  let reportedMs = 0;
  let reportedAt = Date.now();
  function reported(total) {
    reportedMs = Math.max(reportedMs, total);
    reportedAt = Date.now();
  }
  // The heartbeat element asks this every 15 s before it fires.
  window.synthreportsBeatDue = function () {
    return Date.now() - reportedAt >= BEAT_MS - 500 && visitActiveMs() - reportedMs >= MIN_UNSENT_MS;
  };
  window.synthreportsActiveMs = visitActiveMs;
  document.body.addEventListener("htmx:configRequest", function (event) {
    const path = event.detail.path || "";
    if (/\/r\/[^/]+\/(score|heartbeat)\//.test(path)) {
      const total = visitActiveMs();
      event.detail.parameters.active_ms = String(total);
      reported(total);
    }
  });
  const heartbeat = document.getElementById("heartbeat");
  const csrfInput = document.querySelector('input[name="csrfmiddlewaretoken"]');
  function reportOnLeave() {
    if (!heartbeat || !csrfInput || !navigator.sendBeacon) return;
    const total = visitActiveMs();
    if (total - reportedMs < MIN_UNSENT_MS) return;
    const data = new FormData();
    data.append("active_ms", String(total));
    data.append("csrfmiddlewaretoken", csrfInput.value);
    if (navigator.sendBeacon(heartbeat.getAttribute("hx-post"), data)) reported(total);
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") reportOnLeave();
  });
  window.addEventListener("pagehide", reportOnLeave);

  // ---- Domains and the highlight ----------------------------------------------------------
  function domains() {
    return Array.from(document.querySelectorAll("fieldset.domain"));
  }
  function focusIsInDomain() {
    const el = document.activeElement;
    return Boolean(el && el.closest && el.closest("fieldset.domain"));
  }
  function focusDomain(fieldset) {
    const target = fieldset.querySelector("input:checked") || fieldset.querySelector("input");
    if (target) target.focus({ preventScroll: true });
  }
  function highlight(index, moveFocus) {
    const all = domains();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (el, i) { el.classList.toggle("current", i === current); });
    const count = document.querySelector(".step-count");
    if (count) {
      count.textContent = (current + 1) + " / " + all.length;
    }
    if (moveFocus) focusDomain(all[current]);
  }
  function firstUnscored() {
    return domains().findIndex(function (el) { return !el.querySelector("input:checked"); });
  }

  function valueForKey(key) {
    if (!/^[0-9]$/.test(key)) return null;
    let value = Number(key);
    if (value === 0) value = 10;
    if (value < scaleMin || value > scaleMax) return null;
    return value;
  }

  function choose(fieldset, value) {
    const radio = fieldset.querySelector('input[type=radio][value="' + value + '"]');
    if (!radio || radio.disabled) return false;
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  // Every change (key, click or tap) is remembered with the score it replaced, for `u`.
  document.addEventListener("change", function (event) {
    const fieldset = event.target.closest && event.target.closest("fieldset.domain");
    if (!fieldset || event.target.type !== "radio" || fieldset.dataset.undoing) return;
    undoStack.push({ key: fieldset.dataset.domain, previous: fieldset.dataset.score || "" });
    hideMissing();
  }, true);

  function undo() {
    const last = undoStack.pop();
    if (!last) return;
    const fieldset = document.querySelector('fieldset.domain[data-domain="' + last.key + '"]');
    if (!fieldset) return;
    highlight(domains().indexOf(fieldset), focusIsInDomain());
    if (last.previous !== "") {
      fieldset.dataset.undoing = "1";
      choose(fieldset, last.previous);
      return;
    }
    // The domain had no score before: clear it on the server and swap the row back.
    if (window.htmx) {
      window.htmx.ajax("POST", fieldset.getAttribute("hx-post") + "clear/", {
        target: fieldset, swap: "outerHTML", values: { active_ms: String(visitActiveMs()) },
      });
    }
  }

  // ---- Incomplete submit: show the missing domain where it is -------------------------
  const missingMessage = document.getElementById("missing-message");
  function hideMissing() {
    if (missingMessage) missingMessage.hidden = true;
    domains().forEach(function (el) { el.classList.remove("missing"); });
  }
  function showMissing(fieldset) {
    const index = domains().indexOf(fieldset);
    highlight(index, false);
    fieldset.classList.add("missing");
    if (missingMessage) {
      const label = fieldset.querySelector(".domain-label");
      missingMessage.textContent = (missingMessage.dataset.template || "Score this domain before submitting: ") +
        (label ? label.textContent : "");
      missingMessage.hidden = false;
    }
    fieldset.scrollIntoView({ block: "nearest" });
    focusDomain(fieldset);
  }
  if (form) {
    form.addEventListener("submit", function (event) {
      const missing = domains().find(function (el) { return !el.querySelector("input:checked"); });
      if (missing) {
        event.preventDefault();
        showMissing(missing);
        return;
      }
      // The next report's page in the submit's answer rather than by a redirect and a GET.
      const answer = document.getElementById("submit-answer");
      if (answer) answer.value = "next-page";
      const field = document.getElementById("submit-active-ms");
      if (field) {
        const total = visitActiveMs();
        field.value = String(total);
        reported(total);
      }
    });
  }

  // ---- Keys --------------------------------------------------------------------------
  function scrollReport(event) {
    // On a radio the browser would change the selection (and save it): scroll instead.
    const step = { ArrowDown: 40, ArrowUp: -40, ArrowRight: 40, ArrowLeft: -40 }[event.key];
    const page = window.innerHeight * 0.9;
    let by = step;
    if (event.key === " ") by = event.shiftKey ? -page : page;
    if (event.key === "PageDown") by = page;
    if (event.key === "PageUp") by = -page;
    if (event.key === "Home") { window.scrollTo({ top: 0 }); return; }
    if (event.key === "End") { window.scrollTo({ top: document.body.scrollHeight }); return; }
    window.scrollBy({ top: by });
  }
  const READING_KEYS = ["ArrowDown", "ArrowUp", "ArrowLeft", "ArrowRight", " ", "PageDown", "PageUp", "Home", "End"];

  function go(url) { if (url) window.location.assign(url); }

  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (sheet && sheet.open) return;  // the dialog has its own keys (Esc closes it)
    if (target.matches("textarea, input[type=text], select")) return;
    const onRadio = target.matches("fieldset.domain input[type=radio]");
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      if (event.key === "ArrowLeft") { event.preventDefault(); go(layout.dataset.previousUrl); }
      if (event.key === "ArrowRight") { event.preventDefault(); go(layout.dataset.nextUrl); }
      return;
    }
    if (event.ctrlKey || event.metaKey) return;
    if (onRadio && READING_KEYS.indexOf(event.key) !== -1) {
      event.preventDefault();
      scrollReport(event);
      return;
    }
    if (event.key === "Tab" && (onRadio || target === report)) {
      const all = domains();
      if (target === report && !event.shiftKey) {
        event.preventDefault();
        highlight(current, true);
        return;
      }
      const next = current + (event.shiftKey ? -1 : 1);
      if (onRadio && next >= 0 && next < all.length) {
        event.preventDefault();
        highlight(next, true);
      }
      return;  // past either end: the browser's own order (comment, links)
    }
    if (target.matches("a, button, summary") && (event.key === "Enter" || event.key === " ")) return;
    if (event.key === "Enter") {
      if (form && document.getElementById("submit-button")) {
        event.preventDefault();
        form.requestSubmit();
      }
      return;
    }
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      highlight(current + (event.key === "j" ? 1 : -1), focusIsInDomain());
      return;
    }
    if (event.key === "[") { event.preventDefault(); go(layout.dataset.previousUrl); return; }
    if (event.key === "]") { event.preventDefault(); go(layout.dataset.nextUrl); return; }
    if (event.key === "u") { event.preventDefault(); undo(); return; }
    if (event.key === "?") { event.preventDefault(); openSheet(); return; }
    const value = valueForKey(event.key);
    if (value === null) return;
    const fieldset = domains()[current];
    if (!fieldset) return;
    event.preventDefault();
    const hadFocus = focusIsInDomain();
    if (choose(fieldset, value)) {
      // The saved row comes back from the server and replaces this one; move on now so
      // fast typists are not held up by the round trip.
      highlight(current + 1, hadFocus);
    }
  });

  // Clicks and taps: the clicked domain becomes the highlighted one; after a tap on a
  // score the bar (phone, tablet) moves on to the next domain.
  document.addEventListener("focusin", function (event) {
    const fieldset = event.target.closest && event.target.closest("fieldset.domain");
    if (fieldset) highlight(domains().indexOf(fieldset), false);
  });
  document.addEventListener("click", function (event) {
    const input = event.target.closest && event.target.closest("fieldset.domain .choice");
    if (!input || event.detail === 0) return;  // detail 0: a keyboard "click"
    const fieldset = input.closest("fieldset.domain");
    const index = domains().indexOf(fieldset);
    window.setTimeout(function () { highlight(index + 1, false); }, 0);
  });

  // A saved row is swapped in whole; if it held the focus, put the focus back on the
  // highlighted domain so the keyboard flow goes on.
  document.body.addEventListener("htmx:afterSettle", function () {
    const lost = !document.activeElement || document.activeElement === document.body;
    highlight(current, lost);
  });

  // ---- Phone and tablet: one domain at a time -------------------------------------------
  const previousStep = document.querySelector(".step-previous");
  const nextStep = document.querySelector(".step-next");
  if (previousStep) previousStep.addEventListener("click", function () { highlight(current - 1, false); });
  if (nextStep) nextStep.addEventListener("click", function () { highlight(current + 1, false); });
  const panel = document.getElementById("rating-panel");
  let touchX = null;
  if (panel) {
    panel.addEventListener("touchstart", function (event) { touchX = event.touches[0].clientX; }, { passive: true });
    panel.addEventListener("touchend", function (event) {
      if (touchX === null) return;
      const dx = event.changedTouches[0].clientX - touchX;
      touchX = null;
      if (Math.abs(dx) > 60) highlight(current + (dx < 0 ? 1 : -1), false);
    }, { passive: true });
  }

  // ---- Shortcut sheet ------------------------------------------------------------------
  function openSheet() {
    if (sheet && !sheet.open && typeof sheet.showModal === "function") sheet.showModal();
  }
  const opener = document.getElementById("shortcuts-open");
  if (opener) opener.addEventListener("click", openSheet);

  // ---- Arrival ---------------------------------------------------------------------------
  const missing = document.querySelector("fieldset.domain.missing");
  if (missing) {
    showMissing(missing);
  } else {
    const first = firstUnscored();
    highlight(first === -1 ? 0 : first, false);
    if (report) report.focus({ preventScroll: true });
  }
})();
