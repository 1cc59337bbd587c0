// The review page: "Use this template" fills the feedback without reloading the page, so
// nothing typed elsewhere in the form is lost. Without JavaScript the form reloads the page
// with the template filled in.
(function () {
  "use strict";
  var picker = document.getElementById("template-picker");
  var feedback = document.getElementById("id_feedback");
  if (!picker || !feedback) {
    return;
  }
  picker.addEventListener("submit", function (event) {
    var select = picker.querySelector("select");
    var option = select && select.options[select.selectedIndex];
    if (!option) {
      return;
    }
    event.preventDefault();
    var body = option.getAttribute("data-body") || "";
    var typed = feedback.value.trim();
    if (typed && typed !== body.trim() && !window.confirm(picker.getAttribute("data-confirm"))) {
      return;
    }
    feedback.value = body;
    feedback.focus();
  });
})();
