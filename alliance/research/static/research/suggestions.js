/* Suggested themes: while a run is in progress, follow it on the progress bar and show
   the groups when it ends. Without this file the page has a Refresh link. */
(function () {
  "use strict";

  var box = document.getElementById("suggestion-progress");
  if (!box || !window.fetch) {
    return;
  }
  var bar = document.getElementById("suggestion-bar");
  var status = document.getElementById("suggestion-status");

  function poll() {
    fetch(box.getAttribute("data-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (run) {
        if (!run) {
          return;
        }
        var percent = Math.round(run.progress * 100);
        bar.value = percent;
        bar.textContent = percent + "%";
        status.textContent = box.getAttribute("data-template").replace("{percent}", percent);
        if (run.status === "done" || run.status === "failed") {
          status.textContent = box.getAttribute("data-done");
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  window.setTimeout(poll, 1000);
}());
