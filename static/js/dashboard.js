// Draws the dashboard's chart from the JSON the page carries: a map of the cities for the province,
// a bar per area below for other areas. Clicking an area opens its own dashboard.
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

  document.addEventListener("DOMContentLoaded", function () {
    var element = document.getElementById("progress-chart");
    var source = document.getElementById("chart-data");
    if (!element || !source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    if (data.level === "province") { drawMap(element, data); } else { drawBars(element, data); }
  });
})();
