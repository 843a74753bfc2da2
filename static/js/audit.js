/* The annotation audit page, keyboard first: j/k move between annotations, 1–4 give the
   verdict (saved at once through htmx), s takes the selected text as the right span,
   a adds the selected text as a missed annotation, Enter submits. Offsets are counted
   over the rendered text, which is the stored text character for character; the
   selected text is sent with them and the server trusts it over the offsets. */
(function () {
  "use strict";
  var root = document.getElementById("audit");
  if (!root) return;
  var textEl = document.getElementById("audit-text");
  var addForm = document.getElementById("add-form");
  var sheet = document.getElementById("shortcut-sheet");
  var current = null; // the data-index of the annotation in focus
  var pending = null; // what to do once the item's answer is swapped in

  function items() { return Array.prototype.slice.call(document.querySelectorAll(".audit-item")); }
  function itemEl(index) { return document.getElementById("item-" + index); }

  function select(index, scroll) {
    current = index;
    items().forEach(function (li) { li.classList.toggle("current", li.dataset.index === index); });
    textEl.querySelectorAll("mark.ann").forEach(function (mark) {
      mark.classList.toggle("current", (mark.dataset.ann || "").split(" ").indexOf(index) >= 0);
    });
    if (!scroll) return;
    var li = itemEl(index);
    if (li) li.scrollIntoView({ block: "nearest" });
    var mark = textEl.querySelector('mark[data-ann~="' + index + '"]');
    if (mark) mark.scrollIntoView({ block: "nearest" });
  }

  function step(delta) {
    var list = items();
    if (!list.length) return;
    var at = list.findIndex(function (li) { return li.dataset.index === current; });
    at = at < 0 ? (delta > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, at + delta));
    select(list[at].dataset.index, true);
  }

  function selection() {
    var sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    var range = sel.getRangeAt(0);
    if (!textEl.contains(range.startContainer) || !textEl.contains(range.endContainer)) return null;
    var before = document.createRange();
    before.setStart(textEl, 0);
    before.setEnd(range.startContainer, range.startOffset);
    var start = before.toString().length;
    var selected = range.toString();
    return { start: start, end: start + selected.length, selected: selected };
  }

  function fill(form, span) {
    form.querySelector('[name="start"]').value = span.start;
    form.querySelector('[name="end"]').value = span.end;
    form.querySelector('[name="selected"]').value = span.selected;
  }

  function verdict(n) {
    var li = itemEl(current);
    if (!li) return;
    var button = li.querySelectorAll("button.verdict")[n - 1];
    if (!button || button.disabled) return;
    pending = { index: current, action: "verdict-" + n };
    button.click();
  }

  function useSelection() {
    var li = itemEl(current);
    var form = li && li.querySelector("form.fix-span");
    var span = selection();
    if (!form || !span) return;
    fill(form, span);
    pending = { index: current, action: "span" };
    form.requestSubmit();
  }

  function addOpen() {
    var span = selection();
    if (!span || !addForm) return;
    fill(addForm, span);
    document.getElementById("add-selected").textContent = span.selected;
    addForm.hidden = false;
    document.getElementById("add-field").value = "";
    document.getElementById("add-value").value = "";
    document.getElementById("add-field").focus();
  }

  function addClose() {
    if (!addForm) return;
    addForm.hidden = true;
    document.getElementById("report").focus();
  }

  // Keyboard selection in the narrative (Chromium does not move a caret through text that
  // is not editable): c puts the caret at the start of the annotation in focus, ←/→ move it,
  // Shift+←/→ select, with Ctrl a word at a time.
  function caretAtCurrent() {
    var li = itemEl(current);
    var target = Number((li && li.dataset.start) || 0);
    var walker = document.createTreeWalker(textEl, NodeFilter.SHOW_TEXT);
    var seen = 0, node;
    while ((node = walker.nextNode())) {
      if (seen + node.length > target) {
        window.getSelection().collapse(node, target - seen);
        return;
      }
      seen += node.length;
    }
  }

  function caretInText() {
    var sel = window.getSelection();
    return sel && sel.rangeCount > 0 && textEl.contains(sel.anchorNode);
  }

  document.addEventListener("keydown", function (event) {
    var arrow = event.key === "ArrowRight" || event.key === "ArrowLeft";
    var inField = /^(input|textarea|select)$/i.test(event.target.tagName || "");
    if (arrow && !event.altKey && !event.metaKey && !inField && caretInText()) {
      window.getSelection().modify(
        event.shiftKey ? "extend" : "move",
        event.key === "ArrowRight" ? "forward" : "backward",
        event.ctrlKey ? "word" : "character"
      );
      event.preventDefault();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    var typing = tag === "input" || tag === "textarea" || tag === "select";
    if (event.key === "Escape") {
      if (sheet && sheet.open) return;
      if (addForm && !addForm.hidden) { addClose(); event.preventDefault(); return; }
      if (typing) { event.target.blur(); document.getElementById("report").focus(); }
      return;
    }
    if (typing || (sheet && sheet.open)) return;
    var key = event.key;
    if (key === "j" || key === "n") { step(1); }
    else if (key === "k" || key === "p") { step(-1); }
    else if (key >= "1" && key <= "4") { verdict(Number(key)); }
    else if (key === "s") { useSelection(); }
    else if (key === "c") { caretAtCurrent(); }
    else if (key === "a") { addOpen(); }
    else if (key === "[" && root.dataset.previousUrl) { window.location = root.dataset.previousUrl; }
    else if (key === "]" && root.dataset.nextUrl) { window.location = root.dataset.nextUrl; }
    else if (key === "?" && sheet) { sheet.showModal(); }
    else if (key === "Enter" && tag !== "button" && tag !== "a") {
      var submit = document.getElementById("submit-button");
      if (submit) submit.click();
    } else { return; }
    event.preventDefault();
  });

  // With the mouse: a selection made in the text fills the right-span form of the
  // annotation in focus when it waits for one, or opens the form for a missed annotation.
  textEl.addEventListener("mouseup", function () {
    var span = selection();
    if (!span) return;
    var li = itemEl(current);
    var form = li && li.querySelector("form.fix-span");
    if (form) { fill(form, span); return; }
    addOpen();
  });

  // The "Use the selected text" button, clicked: take the selection at that moment (the
  // capture phase runs before htmx reads the form).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("fix-span")) return;
    var span = selection();
    if (span) fill(form, span);
    pending = { index: form.closest(".audit-item").dataset.index, action: "span" };
  }, true);

  textEl.addEventListener("click", function (event) {
    var mark = event.target.closest("mark.ann");
    if (mark && window.getSelection().isCollapsed) select(mark.dataset.ann.split(" ")[0], false);
  });

  document.body.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (target && target.id === "added-list") {
      if (!target.querySelector(".error")) {
        addClose();
        window.getSelection().removeAllRanges();
      }
      return;
    }
    if (current !== null) select(current, false);
    var done = pending;
    pending = null;
    if (!done || done.index !== current) return;
    var li = itemEl(current);
    if (li && li.querySelector(".error")) return;
    if (done.action === "verdict-2") {
      var input = li && li.querySelector(".fix-value-input");
      if (input) { input.focus(); input.select(); }
    } else if (done.action === "verdict-3") {
      document.getElementById("report").focus();
    } else {
      // A verdict that needs nothing more, or a saved correction: on to the next one.
      if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
      step(1);
    }
  });

  // A saved value (Enter in the field) counts as done with this annotation.
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.classList && form.classList.contains("fix-value")) {
      pending = { index: form.closest(".audit-item").dataset.index, action: "value" };
    }
  });

  var open = document.getElementById("shortcuts-open");
  if (open && sheet) open.addEventListener("click", function () { sheet.showModal(); });
  var first = items()[0];
  if (first) select(first.dataset.index, false);
})();
