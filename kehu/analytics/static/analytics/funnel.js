// The funnel charts of the report page (Apache ECharts): one per pipeline, from the JSON the page embeds.
// Clicking a stage opens the deals behind it, as the numbers in the table do.
(function () {
  "use strict";
  function draw() {
    var data = document.getElementById("funnel-data");
    if (!data || typeof echarts === "undefined") return;
    var pipelines = JSON.parse(data.textContent);
    var colors = ["#3b5bdb", "#4c6ef5", "#5c7cfa", "#748ffc", "#91a7ff", "#bac8ff", "#2b8a3e"];
    document.querySelectorAll("[data-funnel-chart]").forEach(function (el) {
      var p = pipelines[Number(el.dataset.funnelChart)];
      if (!p) return;
      var chart = echarts.init(el, null, { renderer: "svg" });
      var max = Math.max.apply(null, p.stages.map(function (s) { return s.value; }).concat([1]));
      chart.setOption({
        color: p.stages.map(function (s, i) { return i === p.stages.length - 1 ? colors[6] : colors[Math.min(i, 5)]; }),
        tooltip: { trigger: "item", formatter: function (x) { return x.name + ": " + x.value.toLocaleString(); } },
        animationDuration: 300,
        series: [{
          type: "funnel",
          left: "8%", right: "8%", top: 12, bottom: 12,
          min: 0, max: max, minSize: "12%", sort: "none", gap: 3,
          label: { show: true, position: "inside", color: "#fff", fontSize: 12,
                   formatter: function (x) { return x.name + "  " + x.value.toLocaleString(); } },
          labelLine: { show: false },
          itemStyle: { borderWidth: 0 },
          emphasis: { label: { fontWeight: "bold" } },
          data: p.stages.map(function (s) { return { name: s.name, value: s.value, url: s.url }; })
        }]
      });
      chart.on("click", function (x) { if (x.data && x.data.url) window.location.href = x.data.url; });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  // the period's own dates only matter for a custom period: show them then
  function toggleDates() {
    var period = document.getElementById("id_period");
    if (!period) return;
    var custom = period.value === "custom";
    document.querySelectorAll("[data-custom-period]").forEach(function (el) { el.hidden = !custom; });
  }
  document.addEventListener("DOMContentLoaded", function () {
    draw();
    toggleDates();
    var period = document.getElementById("id_period");
    if (period) period.addEventListener("change", toggleDates);
  });
})();
