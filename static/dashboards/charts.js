// Dashboard charts: each <canvas data-chart="ID"> reads its data from the json_script element ID.
// No inline script (strict CSP); numbers in French formats.
(function () {
  "use strict";
  var PALETTE = ["#1f5fa8", "#e07b39", "#2e8b57", "#8e44ad", "#c0392b", "#7f8c8d"];
  var NUMBER = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 });
  var EUROS = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR", maximumFractionDigits: 0 });

  function format(value, unit) {
    if (value === null || value === undefined) return "—";
    if (unit === "euros") return EUROS.format(value);
    if (unit === "percent") return NUMBER.format(value) + " %";
    if (unit === "days") return NUMBER.format(value) + " j";
    return NUMBER.format(value);
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var units = [];
    data.datasets.forEach(function (d) { if (units.indexOf(d.unit) < 0) units.push(d.unit); });
    var scales = { x: { grid: { display: false } } };
    units.forEach(function (unit, i) {
      scales["y" + i] = {
        position: i === 0 ? "left" : "right",
        beginAtZero: true,
        grid: { drawOnChartArea: i === 0 },
        ticks: { callback: function (value) { return format(value, unit); } }
      };
    });
    var chart = new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (d, i) {
          var color = PALETTE[i % PALETTE.length];
          return {
            type: d.type, label: d.label, data: d.data, unit: d.unit,
            yAxisID: "y" + units.indexOf(d.unit),
            backgroundColor: d.type === "line" ? color : color + "b3",
            borderColor: color, borderWidth: d.type === "line" ? 2 : 0, tension: 0.2, spanGaps: true
          };
        })
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, locale: "fr-FR",
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + " : " + format(ctx.raw, ctx.dataset.unit); } } }
        },
        scales: scales
      }
    });
    canvas.dataset.rendered = "1";
    return chart;
  }

  function init() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
