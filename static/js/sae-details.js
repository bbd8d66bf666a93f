// The SAE details of an adverse event form are shown only while "serious" is ticked. Hidden fields are also
// disabled, so they are not posted; with script off every field stays shown (its help says when it applies).
(function () {
  "use strict";
  var toggle = document.querySelector("[data-sae-toggle]");
  if (!toggle) {
    return;
  }
  var details = Array.prototype.slice.call(document.querySelectorAll("[data-sae-detail]"));
  function wrapperOf(input) {
    // A fieldset of the form's own (a radio group), never one around the whole form (a read-only review).
    var group = input.closest("fieldset");
    if (group && !(input.form && input.form.contains(group))) {
      group = null;
    }
    return group || input.closest("[id^='div_id_']") || input;
  }
  function update() {
    details.forEach(function (input) {
      input.disabled = !toggle.checked;
      wrapperOf(input).hidden = !toggle.checked;
    });
  }
  toggle.addEventListener("change", update);
  update();
})();
