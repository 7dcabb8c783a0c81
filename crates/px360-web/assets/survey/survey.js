// Progressive enhancement of the patient's survey page (templates/survey/page.html). The form
// works without this file: every question is shown and the server applies the show-if rules.
// With it, a question whose condition does not hold is hidden and disabled (so nothing stale is
// sent), and shown as soon as the earlier answer makes it apply.
(function () {
  "use strict";
  var form = document.querySelector("form.px-form");
  if (!form) { return; }
  document.documentElement.classList.add("js");
  var conditional = Array.prototype.slice.call(form.querySelectorAll("fieldset[data-show-key]"));

  function chosen(key) {
    var out = [];
    var inputs = form.querySelectorAll("[name='" + key + "']");
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.disabled) { continue; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { continue; }
      if (el.value.trim() !== "") { out.push(el.value.trim()); }
    }
    return out;
  }

  function holds(fs) {
    var values = chosen(fs.getAttribute("data-show-key"));
    if (values.length === 0) { return false; }
    var test = fs.getAttribute("data-show-test");
    var want = (fs.getAttribute("data-show-values") || "").split(" ");
    if (test === "one_of") {
      return values.some(function (v) { return want.indexOf(v) >= 0; });
    }
    var n = parseInt(values[0], 10), limit = parseInt(want[0], 10);
    if (isNaN(n) || isNaN(limit)) { return false; }
    return test === "at_most" ? n <= limit : n >= limit;
  }

  // Conditions refer only to earlier questions, so one pass in document order settles chains.
  function update() {
    conditional.forEach(function (fs) {
      var show = holds(fs);
      fs.hidden = !show;
      fs.disabled = !show;
    });
  }

  form.addEventListener("change", update);
  update();
  var summary = document.getElementById("px-summary");
  if (summary) { summary.focus(); }
})();
