// Progressive enhancement: "Copy" buttons (data-copy="<id of the element to copy>") appear
// only when the Clipboard API is available; without JavaScript the value stays selectable.
document.addEventListener("DOMContentLoaded", function () {
  if (!navigator.clipboard) return;
  document.querySelectorAll("[data-copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-copy"));
      if (!el) return;
      var text = el.value !== undefined ? el.value : el.textContent;
      navigator.clipboard.writeText(text).then(function () {
        var done = b.getAttribute("data-copied");
        if (done) b.textContent = done;
      });
    });
  });
});
