// Web push on this device: progressive enhancement of the reminder settings page.
// Shown only where the browser supports push; subscribes through the service worker the
// installable app registers (/exercises/sw.js) and sends the subscription to our API.
(function () {
  "use strict";
  var section = document.getElementById("push-device");
  if (!section || !("serviceWorker" in navigator) || !("PushManager" in window) ||
      !("Notification" in window)) {
    return;
  }
  var button = section.querySelector("[data-push-subscribe]");
  var status = section.querySelector("[data-push-status]");
  var csrf = section.querySelector("input[name=csrfmiddlewaretoken]");
  section.hidden = false;

  function say(text) { status.textContent = text; }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4))
      .replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function registration() {
    // The check-in app registers the service worker; wait for it, but not for ever.
    return Promise.race([
      navigator.serviceWorker.ready,
      new Promise(function (resolve, reject) {
        window.setTimeout(function () { reject(new Error("no service worker")); }, 8000);
      })
    ]);
  }

  function send(subscription) {
    var body = subscription.toJSON();
    return fetch(section.dataset.subscribeUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
      body: JSON.stringify({ endpoint: body.endpoint, keys: body.keys })
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
    });
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    say(button.dataset.working || "…");
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        throw new Error("permission " + permission);
      }
      return registration();
    }).then(function (reg) {
      return reg.pushManager.getSubscription().then(function (existing) {
        return existing || reg.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(section.dataset.vapidKey)
        });
      });
    }).then(send).then(function () {
      say(section.dataset.done || "Notifications are on for this device.");
    }).catch(function () {
      say(section.dataset.failed ||
        "Notifications could not be turned on here. Check this browser's settings.");
    }).then(function () {
      button.disabled = false;
    });
  });
}());
