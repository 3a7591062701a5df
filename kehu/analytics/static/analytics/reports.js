// Charts of the forecast and performance pages (Apache ECharts), from the JSON each page embeds, and the
// performance page's period picker (a month or a quarter).
(function () {
  "use strict";
  var BLUE = "#3b5bdb", GREEN = "#2b8a3e", VIOLET = "#7048e8", ORANGE = "#e8590c";

  function money(v) { return Math.round(v).toLocaleString(); }
  function axisMoney(v) {
    var a = Math.abs(v);
    if (a >= 1e8) return (v / 1e8).toFixed(1).replace(/\.0$/, "") + "e8";
    if (a >= 1e6) return (v / 1e6).toFixed(1).replace(/\.0$/, "") + "M";
    if (a >= 1e3) return (v / 1e3).toFixed(0) + "k";
    return String(v);
  }
  function narrow() { return window.innerWidth < 576; }

  function base(months) {
    return {
      animationDuration: 300,
      tooltip: { trigger: "axis", valueFormatter: money },
      legend: { bottom: 0, type: "scroll", itemWidth: 14, itemHeight: 10, textStyle: { fontSize: 12 } },
      grid: { left: 8, right: 12, top: 16, bottom: 40, containLabel: true },
      xAxis: { type: "category", data: months, axisTick: { show: false },
               axisLabel: { hideOverlap: true, fontSize: 11 } },
      yAxis: { type: "value", axisLabel: { formatter: axisMoney, fontSize: 11 },
               splitLine: { lineStyle: { color: "#eef0f3" } } }
    };
  }

  function forecast(el, d) {
    var opt = base(d.months);
    opt.series = [
      { name: d.labels.closed, type: "bar", data: d.closed, itemStyle: { color: GREEN }, barMaxWidth: 28 },
      { name: d.labels.weighted, type: "bar", data: d.weighted, itemStyle: { color: BLUE }, barMaxWidth: 28 },
      { name: d.labels.predicted, type: "bar", data: d.predicted, itemStyle: { color: VIOLET }, barMaxWidth: 28 },
      { name: d.labels.best_case, type: "line", data: d.best_case, symbolSize: 6,
        itemStyle: { color: ORANGE }, lineStyle: { type: "dashed" } }
    ];
    return opt;
  }

  function performance(el, d) {
    var opt = base(d.months);
    opt.series = [
      { name: d.labels.won, type: "bar", data: d.won, itemStyle: { color: BLUE }, barMaxWidth: 24 },
      { name: d.labels.target, type: "line", data: d.target, step: "middle", symbol: "none",
        itemStyle: { color: ORANGE }, lineStyle: { width: 2, type: "dashed", color: ORANGE } }
    ];
    if (narrow()) opt.xAxis.axisLabel.rotate = 45;
    return opt;
  }

  var KINDS = { forecast: forecast, performance: performance };

  function draw() {
    if (typeof echarts === "undefined") return;
    document.querySelectorAll("[data-report-chart]").forEach(function (el) {
      var kind = el.dataset.reportChart;
      var data = document.getElementById(kind + "-data");
      if (!data || !KINDS[kind]) return;
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(KINDS[kind](el, JSON.parse(data.textContent)));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  // a month picker for a monthly period, a quarter picker for a quarterly one
  function togglePeriod() {
    var kind = document.getElementById("id_kind");
    if (!kind) return;
    document.querySelectorAll("[data-period-kind]").forEach(function (el) {
      var on = el.dataset.periodKind === kind.value;
      el.hidden = !on;
      el.querySelectorAll("input, select").forEach(function (i) { i.disabled = !on; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw();
    togglePeriod();
    var kind = document.getElementById("id_kind");
    if (kind) kind.addEventListener("change", togglePeriod);
  });
})();
