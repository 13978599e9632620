// A report's chart with the vendored uPlot: the data come in the element's data-report-chart
// attribute ([[unix seconds…], [values…]]). Drawn at load and again after htmx swaps the report in.
(function () {
  "use strict";
  function draw(root) {
    (root || document).querySelectorAll("[data-report-chart]").forEach(function (el) {
      if (el.dataset.drawn || typeof uPlot === "undefined") { return; }
      el.dataset.drawn = "1";
      var data = JSON.parse(el.dataset.reportChart);
      var width = Math.max(260, (el.clientWidth || 600) - 16);
      var day = uPlot.fmtDate("{DD}/{MM}");
      var fullDay = uPlot.fmtDate("{DD}/{MM}/{YYYY}");
      var chart = new uPlot({
        width: width, height: 220,
        scales: { x: { time: true } },
        series: [{ label: "Día", value: function (u, v) { return v == null ? "" : fullDay(new Date(v * 1000)); } }, { label: el.dataset.seriesLabel || "", stroke: "#0b5cad", fill: "rgba(11,92,173,.12)", width: 2,
                       value: function (u, v) { return v == null ? "" : v.toFixed(2).replace(".", ",") + " €"; } }],
        axes: [{ incrs: [86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400], space: 48, values: function (u, vals) { return vals.map(function (v) { return day(new Date(v * 1000)); }); } }, { values: function (u, vals) { return vals.map(function (v) { return v + " €"; }); } }],
        legend: { show: true }
      }, data, el);
      // a tablet turned or a window resized: the chart follows its box's width
      window.addEventListener("resize", function () {
        chart.setSize({ width: Math.max(260, el.clientWidth - 16), height: 220 });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
