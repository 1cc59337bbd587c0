/* Alliance on the patient's phone: registers the service worker (sw.js) and asks it to send
   check-ins kept on the device while offline, now and whenever the connection returns.

   Progressive enhancement only: every page works without this file. Included as
   <script src=".../pwa.js" data-service-worker="/exercises/sw.js" defer>. */
(function () {
  "use strict";
  if (window.alliancePwa) {
    return; // included twice (the layout and a page): run once
  }
  var script = document.currentScript;
  var workerUrl = (script && script.getAttribute("data-service-worker")) || "/exercises/sw.js";
  // The words come from the server, translated: data-text-sent, -refused and -mood.
  function text(name) {
    return (script && script.getAttribute("data-text-" + name)) || "";
  }
  window.alliancePwa = { workerUrl: workerUrl };

  // A check-in form shown from the phone's copy must not reuse the key of an older visit:
  // each form shown gets its own key, so a double submit or a replay saves once.
  function freshKeys() {
    if (!window.crypto || !window.crypto.randomUUID) {
      return;
    }
    var inputs = document.querySelectorAll("form[data-checkin-form] input[name=client_key]");
    for (var i = 0; i < inputs.length; i++) {
      inputs[i].value = window.crypto.randomUUID();
    }
  }

  // Offline, the server cannot say "choose a number": say it here, so nothing incomplete
  // is kept on the phone. Online, the server's own error summary does it.
  function moodFirst() {
    var forms = document.querySelectorAll("form[data-checkin-form]");
    for (var i = 0; i < forms.length; i++) {
      forms[i].addEventListener("submit", function (event) {
        var form = event.currentTarget;
        if (navigator.onLine === false && !form.querySelector("input[name=mood]:checked")) {
          event.preventDefault();
          say(text("mood"), "message-error");
          var first = form.querySelector("input[name=mood]");
          if (first) {
            first.focus();
          }
        }
      });
    }
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input && input.value) {
      return input.value;
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // A short note at the top of the page, read out by screen readers.
  function say(words, kind) {
    var main = document.getElementById("main");
    if (!main || !words) {
      return;
    }
    var box = document.getElementById("pwa-status");
    if (!box) {
      box = document.createElement("div");
      box.id = "pwa-status";
      box.className = "messages";
      box.setAttribute("role", "status");
      main.insertBefore(box, main.firstChild);
    }
    var line = document.createElement("p");
    line.className = "message " + (kind || "message-success");
    line.textContent = words;
    box.appendChild(line);
  }

  function askToReplay(registration) {
    var worker = navigator.serviceWorker.controller || (registration && registration.active);
    if (worker && navigator.onLine !== false) {
      worker.postMessage({ type: "replay-checkins", csrf: csrfToken() });
    }
  }

  function signOutClearsThePhone() {
    // Pages kept for offline use hold the person's name: a shared phone forgets them.
    var forms = document.querySelectorAll("form[action$='/sign-out/']");
    for (var i = 0; i < forms.length; i++) {
      forms[i].addEventListener("submit", function () {
        if (navigator.serviceWorker.controller) {
          navigator.serviceWorker.controller.postMessage({ type: "forget-pages" });
        }
      });
    }
  }

  freshKeys();
  moodFirst();
  if (!("serviceWorker" in navigator)) {
    return;
  }
  navigator.serviceWorker.addEventListener("message", function (event) {
    var data = event.data || {};
    if (data.type === "checkin-sent") {
      say(text("sent"));
    } else if (data.type === "checkin-refused") {
      say(text("refused") + (data.message ? " " + data.message : ""), "message-error");
    }
  });
  signOutClearsThePhone();
  navigator.serviceWorker
    .register(workerUrl, { scope: "/" })
    .then(function (registration) {
      askToReplay(registration);
      window.addEventListener("online", function () {
        askToReplay(registration);
      });
    })
    .catch(function () {
      /* No service worker (private mode, an old browser): the pages work as they are. */
    });
})();
