// A pet's charts: weight and each lab value over time, drawn with the vendored uPlot from the
// page's JSON block (#datos-graficas). Served by the console; the CSP allows no inline script.
(function () {
  "use strict";
  function day(iso) { return Date.parse(iso.slice(0, 10) + "T12:00:00Z") / 1000; }
  function dayMonth(seconds) {  // 15/2/24: day first, as dates are written here
    var d = new Date(seconds * 1000);
    return d.getUTCDate() + "/" + (d.getUTCMonth() + 1) + "/" + String(d.getUTCFullYear()).slice(2);
  }
  function spanish(n) { return (Math.round(n * 100) / 100).toString().replace(".", ","); }

  function draw(figure, chart) {
    var box = figure.querySelector(".chart-canvas");
    if (!box || !window.uPlot) return null;
    var points = chart.points.slice().sort(function (a, b) { return day(a.date) - day(b.date); });
    var data = [points.map(function (p) { return day(p.date); }), points.map(function (p) { return p.value; })];
    var width = Math.max(240, Math.min(box.clientWidth || 320, 640));
    var options = {
      width: width, height: 200, legend: { show: false }, cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [{ stroke: "#1c2330", grid: { stroke: "#e4e8ee" }, values: function (u, ticks) { return ticks.map(dayMonth); } },
             { stroke: "#1c2330", grid: { stroke: "#e4e8ee" }, size: 56,
               values: function (u, ticks) { return ticks.map(spanish); } }],
      series: [{}, { label: chart.title, stroke: "#0b5cad", width: 2, points: { show: true, size: 7, fill: "#0b5cad" } }],
    };
    return new window.uPlot(options, data, box);
  }

  function start() {
    var source = document.getElementById("datos-graficas");
    if (!source) return;
    var charts = JSON.parse(source.textContent);
    var drawn = [];
    charts.forEach(function (chart) {
      var figure = document.querySelector('[data-chart="' + chart.id + '"]');
      var plot = figure && draw(figure, chart);
      if (plot) { drawn.push([figure, plot]); figure.classList.add("drawn"); }
    });
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () {
        drawn.forEach(function (pair) {
          var box = pair[0].querySelector(".chart-canvas");
          pair[1].setSize({ width: Math.max(240, Math.min(box.clientWidth || 320, 640)), height: 200 });
        });
      }, 150);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
