/* 统计分析: the charts of the dashboard, drawn from the page's JSON block; every bar opens its problems. */
(function () {
  "use strict";
  var holder = document.getElementById("dashboard-data");
  if (!holder || typeof echarts === "undefined") { return; }
  var data = JSON.parse(holder.textContent);
  var charts = [];
  var palette = ["#0d6efd", "#198754", "#dc3545", "#fd7e14", "#6f42c1", "#20c997"];

  function open(urls) {
    return function (params) {
      var url = urls[params.dataIndex];
      if (url) { window.location.href = url; }
    };
  }

  function draw(id, option, onClick) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    option.color = palette;
    // The tooltip is drawn on the canvas: ECharts' HTML tooltip is markup with style attributes, which the
    // Content-Security-Policy refuses.
    if (option.tooltip) { option.tooltip.renderMode = "richText"; }
    option.textStyle = { fontFamily: "system-ui, 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif" };
    chart.setOption(option);
    if (onClick) { chart.on("click", onClick); }
    charts.push(chart);
  }

  var u = data.units;
  var unitHeight = Math.max(240, u.names.length * 26 + 60);
  var unitsEl = document.getElementById("chart-units");
  if (unitsEl) { unitsEl.style.height = Math.min(unitHeight, 720) + "px"; }
  draw("chart-units", {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: function (v) { return v + "%"; } },
    grid: { left: 8, right: 40, top: 10, bottom: 10, containLabel: true },
    xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "category", data: u.names, inverse: true, axisLabel: { width: 110, overflow: "truncate" } },
    dataZoom: u.names.length > 25 ? [{ type: "slider", yAxisIndex: 0, right: 0, width: 14, start: 0, end: 100 * 25 / u.names.length }] : [],
    series: [{ name: "整改率", type: "bar", data: u.rates, label: { show: true, position: "right", formatter: "{c}%" } }]
  }, open(u.urls));

  var t = data.trend;
  var lastNew = [], lastClosed = [];
  draw("chart-trend", {
    tooltip: { trigger: "axis" },
    legend: { data: ["新增", "销号", "累计整改率"], top: 0 },
    grid: { left: 8, right: 8, top: 30, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: t.months },
    yAxis: [{ type: "value", name: "个", minInterval: 1 }, { type: "value", name: "%", max: 100 }],
    series: [
      { name: "新增", type: "bar", data: t.new },
      { name: "销号", type: "bar", data: t.closed },
      { name: "累计整改率", type: "line", yAxisIndex: 1, data: t.rates, connectNulls: true }
    ]
  }, function (params) {
    var urls = params.seriesName === "新增" ? t.new_urls : params.seriesName === "销号" ? t.closed_urls : null;
    if (urls && urls[params.dataIndex]) { window.location.href = urls[params.dataIndex]; }
  });

  function groups(id, g) {
    draw(id, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 30, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: g.names, inverse: true, axisLabel: { width: 120, overflow: "truncate" } },
      series: [{ name: "问题总数", type: "bar", data: g.totals, label: { show: true, position: "right" } }]
    }, open(g.urls));
  }
  groups("chart-category", data.category);
  groups("chart-source", data.source);

  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 150);
  });

  // Sortable tables: click a header to sort by it (numbers by their data-v), again to reverse.
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th[data-sort]").forEach(function (th, index) {
      th.classList.add("sortable-th");
      th.setAttribute("role", "button");
      th.setAttribute("tabindex", "0");
      function sort() {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var numeric = th.getAttribute("data-sort") === "num";
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        rows.sort(function (a, b) {
          var x = a.cells[index], y = b.cells[index];
          if (!x || !y) { return 0; }
          if (numeric) { return dir * (parseFloat(x.getAttribute("data-v")) - parseFloat(y.getAttribute("data-v"))); }
          return dir * x.textContent.trim().localeCompare(y.textContent.trim(), "zh-CN");
        });
        table.querySelectorAll("th[data-sort]").forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
  });
})();
