// The brief's "Print" button: shown only when script runs (the browser's own print
// command works without it, and the print stylesheet applies either way).
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-print]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
