// Draws the dashboard's charts from the JSON the page carries: a map of the cities for the province,
// a bar per area below for other areas (clicking an area opens its own dashboard), and the monthly
// progress of the area itself against its targets.
(function () {
  "use strict";

  function drill(code) {
    var params = new URLSearchParams(window.location.search);
    window.location.href = "/progress/" + encodeURIComponent(code) + "/?" + params.toString();
  }

  function valueOf(area) {
    return area.percent === null ? null : area.percent;
  }

  function label(area) {
    var shown = area.target ? area.achieved + " / " + area.target + "（" + area.percent + "%）" : String(area.achieved);
    return area.name + "：" + shown;
  }

  function drawMap(element, data) {
    fetch(element.dataset.map, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (geojson) {
        window.echarts.registerMap("jiangxi", geojson);
        var byName = {};
        data.areas.forEach(function (area) { byName[area.name] = area; });
        // Coloured by completion where the cities have targets, else by what they achieved.
        var withTargets = data.areas.some(function (area) { return area.target; });
        var most = Math.max.apply(null, data.areas.map(function (area) { return area.achieved; }).concat([1]));
        var chart = window.echarts.init(element, null, { renderer: "canvas" });
        chart.setOption({
          animation: false,
          tooltip: {
            trigger: "item",
            formatter: function (p) { return byName[p.name] ? label(byName[p.name]) : p.name; },
          },
          visualMap: {
            min: 0, max: withTargets ? 100 : most, left: "left", bottom: 10, calculable: false,
            text: withTargets ? ["100%", "0%"] : [String(most), "0"],
            inRange: { color: ["#fdecea", "#f4a09a", "#d9534f", "#1e7e34"] },
          },
          series: [{
            type: "map", map: "jiangxi", roam: false, selectedMode: false,
            label: { show: true, fontSize: 11 },
            data: data.areas.map(function (area) {
              return { name: area.name, value: withTargets ? valueOf(area) : area.achieved };
            }),
          }],
        });
        chart.on("click", function (p) { if (byName[p.name]) { drill(byName[p.name].code); } });
        window.addEventListener("resize", function () { chart.resize(); });
        element.dataset.drawn = "map";
      });
  }

  function drawBars(element, data) {
    var areas = data.areas.slice(0, 40).reverse();
    var withTargets = areas.some(function (area) { return area.target; });
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      grid: { left: 150, right: 40, top: 10, bottom: 30 },
      tooltip: { trigger: "item", formatter: function (p) { return label(areas[p.dataIndex]); } },
      xAxis: withTargets ? { type: "value", max: 100, axisLabel: { formatter: "{value}%" } } : { type: "value" },
      yAxis: { type: "category", data: areas.map(function (area) { return area.name; }) },
      series: [{
        type: "bar",
        itemStyle: { color: "#c0392b" },
        data: areas.map(function (area) { return withTargets ? valueOf(area) || 0 : area.achieved; }),
      }],
    });
    chart.on("click", function (p) { if (data.level !== "township") { drill(areas[p.dataIndex].code); } });
    window.addEventListener("resize", function () { chart.resize(); });
    element.dataset.drawn = "bars";
  }

  var COLOURS = ["#c0392b", "#1f6fb2", "#2e8b57", "#d08a00", "#7b4fa0", "#13828a", "#8c564b", "#d45087"];

  // One line per measure (what was achieved up to each month's end, its latest figure at the end) and
  // a dashed one for its target, under one legend entry. The headline and the measure chosen on the
  // page are shown; the legend adds the others, whose units (people, households, facilities) differ.
  function drawTrend(element, data) {
    var series = [];
    var selected = {};
    var byName = {};
    var isTarget = [];
    data.series.forEach(function (measure, n) {
      var colour = COLOURS[n % COLOURS.length];
      byName[measure.name] = measure;
      selected[measure.name] = measure.selected;
      isTarget.push(false);
      series.push({
        name: measure.name, type: "line", data: measure.values, symbolSize: 6,
        itemStyle: { color: colour }, lineStyle: { width: 2.5 },
        endLabel: { show: true, formatter: "{c}", color: colour, fontWeight: "bold" },
      });
      if (measure.target) {
        isTarget.push(true);
        series.push({
          name: measure.name, type: "line", symbol: "none", silent: true,
          data: data.months.map(function () { return measure.target; }),
          itemStyle: { color: colour }, lineStyle: { type: "dashed", width: 1.5 },
          endLabel: {
            show: true, color: colour,
            formatter: function () { return data.target_label.replace("%(target)s", measure.target); },
          },
        });
      }
    });
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      legend: {
        type: "scroll", orient: "vertical", right: 10, top: 10, bottom: 10, width: 230, selected: selected,
        inactiveColor: "#9a9a9a",
        textStyle: { width: 200, overflow: "truncate" }, tooltip: { show: true },
      },
      tooltip: {
        trigger: "axis",
        formatter: function (points) {
          var lines = [points.length ? points[0].axisValue : ""];
          points.forEach(function (p) {
            var measure = byName[p.seriesName];
            if (isTarget[p.seriesIndex] || p.value === undefined) { return; }
            var shown = measure.target
              ? p.value + " / " + measure.target + "（" + Math.round((p.value * 100) / measure.target) + "%）"
              : String(p.value);
            lines.push(p.marker + measure.name + "：" + shown);
          });
          return lines.join("<br>");
        },
      },
      grid: { left: 20, right: 330, top: 30, bottom: 20, containLabel: true },
      xAxis: { type: "category", boundaryGap: false, data: data.months },
      yAxis: { type: "value", minInterval: 1 },
      series: series,
    });
    window.addEventListener("resize", function () { chart.resize(); });
    element.dataset.drawn = "trend";
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.echarts) { return; }
    var element = document.getElementById("progress-chart");
    var source = document.getElementById("chart-data");
    if (element && source) {
      var data = JSON.parse(source.textContent);
      if (data.level === "province") { drawMap(element, data); } else { drawBars(element, data); }
    }
    var trend = document.getElementById("trend-chart");
    var trendSource = document.getElementById("trend-data");
    if (trend && trendSource) { drawTrend(trend, JSON.parse(trendSource.textContent)); }
  });
})();
