// Analytics charts (Chart.js, vendored). The data comes from the page in a data-charts
// attribute (the Content-Security-Policy allows no inline script). Chart.js does not mirror
// for dir="rtl" (shared/STACK.md, gotcha 21): on Arabic pages the category axis is reversed,
// the value axis moves to the right, and legend and tooltips are laid out right to left.
(function () {
  "use strict";
  function draw() {
    var holder = document.getElementById("px-charts");
    if (!holder || typeof Chart === "undefined") { return; }
    var data;
    try { data = JSON.parse(holder.getAttribute("data-charts")); } catch (e) { return; }
    var rtl = !!data.rtl;
    var font = rtl ? { family: "'Noto Sans Arabic', 'Noto Sans', system-ui, sans-serif" } : {};
    var common = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      locale: rtl ? "ar" : "en",
      // Rotated date labels lean towards the start of a reversed axis: room for them.
      layout: { padding: rtl ? { left: 28 } : { right: 8 } },
      plugins: {
        legend: { rtl: rtl, labels: { font: font } },
        tooltip: { rtl: rtl, textDirection: rtl ? "rtl" : "ltr" }
      }
    };
    var palette = ["#0d6efd", "#198754", "#fd7e14", "#6c757d"];
    var series = document.getElementById("px-chart-series");
    if (series) {
      new Chart(series, {
        type: "line",
        data: {
          labels: data.series.labels,
          datasets: data.series.datasets.map(function (d, i) {
            return { label: d.label, data: d.data, borderColor: palette[i], backgroundColor: palette[i], spanGaps: true, tension: 0.2 };
          })
        },
        options: Object.assign({}, common, {
          scales: {
            x: { reverse: rtl, ticks: { font: font } },
            y: { position: rtl ? "right" : "left", suggestedMin: -100, suggestedMax: 100, ticks: { font: font } }
          }
        })
      });
    }
    var dist = document.getElementById("px-chart-dist");
    if (dist) {
      var colours = ["#198754", "#ffc107", "#dc3545"];
      new Chart(dist, {
        type: "bar",
        data: {
          labels: data.dist.labels,
          datasets: data.dist.datasets.map(function (d, i) {
            return { label: d.label, data: d.data, backgroundColor: colours[i] };
          })
        },
        options: Object.assign({}, common, {
          scales: {
            x: { stacked: true, reverse: rtl, ticks: { font: font } },
            y: { stacked: true, max: 100, position: rtl ? "right" : "left", ticks: { font: font } }
          }
        })
      });
    }
    holder.setAttribute("data-drawn", "1");
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
