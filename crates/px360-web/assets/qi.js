// QI run charts (Chart.js, vendored), one per measure. The data comes from the page in a
// data-chart attribute (the Content-Security-Policy allows no inline script): the value per
// week or month (null: no data), which points are the baseline (before the change date) and
// which are part of an IHI signal, the median frozen on the baseline and the target. Arabic
// pages mirror the chart (Chart.js does not follow dir="rtl"), as assets/analytics.js does.
(function () {
  "use strict";
  function draw() {
    if (typeof Chart === "undefined") { return; }
    var canvases = document.querySelectorAll("canvas.px-qi-chart");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var d;
      try { d = JSON.parse(canvas.getAttribute("data-chart")); } catch (e) { return; }
      var rtl = !!d.rtl;
      var font = rtl ? { family: "'Noto Sans Arabic', 'Noto Sans', system-ui, sans-serif" } : {};
      var n = d.labels.length;
      var before = d.values.map(function (v, i) { return d.baseline[i] ? v : null; });
      // The after series starts at the last baseline point so the line is continuous.
      var lastBase = d.baseline.lastIndexOf(true);
      var after = d.values.map(function (v, i) { return (!d.baseline[i] || i === lastBase) ? v : null; });
      var flat = function (v) { var a = []; for (var i = 0; i < n; i++) { a.push(v); } return a; };
      var red = "#dc3545";
      var colours = function (base) {
        return d.signal.map(function (s) { return s ? red : base; });
      };
      var datasets = [
        { label: d.names.before, data: before, borderColor: "#6c757d", backgroundColor: colours("#6c757d"), pointBackgroundColor: colours("#6c757d"), pointRadius: 4, spanGaps: true, tension: 0 },
        { label: d.names.after, data: after, borderColor: "#0d6efd", backgroundColor: colours("#0d6efd"), pointBackgroundColor: colours("#0d6efd"), pointRadius: 4, spanGaps: true, tension: 0 },
        { label: d.names.target, data: flat(d.target), borderColor: "#198754", borderDash: [2, 4], pointRadius: 0, fill: false }
      ];
      if (d.median !== null && d.median !== undefined) {
        datasets.push({ label: d.names.median, data: flat(d.median), borderColor: "#fd7e14", borderDash: [8, 4], pointRadius: 0, fill: false });
      }
      new Chart(canvas, {
        type: "line",
        data: { labels: d.labels, datasets: datasets },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          locale: rtl ? "ar" : "en",
          layout: { padding: rtl ? { left: 44 } : { right: 12 } },
          plugins: {
            legend: { rtl: rtl, labels: { font: font } },
            tooltip: { rtl: rtl, textDirection: rtl ? "rtl" : "ltr" }
          },
          scales: {
            x: { reverse: rtl, ticks: { font: font } },
            y: { position: rtl ? "right" : "left", ticks: { font: font } }
          }
        }
      });
      canvas.setAttribute("data-drawn", "1");
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
