// Upload progress on Reports → Import: htmx reports the XHR upload's progress events;
// the server side is one ordinary request.
(function () {
  "use strict";
  document.addEventListener("htmx:xhr:progress", function (event) {
    const bar = document.getElementById("upload-progress");
    if (!bar || !event.detail.lengthComputable || !event.detail.total) return;
    bar.hidden = false;
    bar.value = Math.round((100 * event.detail.loaded) / event.detail.total);
    bar.textContent = bar.value + "%";
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    const bar = document.getElementById("upload-progress");
    if (bar && event.target.id === "import-form") { bar.hidden = false; bar.value = 0; }
  });
})();
