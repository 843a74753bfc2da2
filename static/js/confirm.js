// Irreversible or disruptive actions (close a study, remove a reviewer, deactivate…) ask
// first: a form with data-confirm submits only once the question is accepted.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
  if (!window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
