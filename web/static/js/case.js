/* The small map on a case page: the case's point and the grid around it, no tiles. */
(function () {
  "use strict";
  var element = document.getElementById("case-map");
  if (!element || !window.L) { return; }
  var lon = Number(element.dataset.lon), lat = Number(element.dataset.lat);
  var map = L.map(element, { zoomControl: true }).setView([lat, lon], 15);
  L.circleMarker([lat, lon], { radius: 8, color: "#b71c1c", fillOpacity: 0.9 }).addTo(map);
  var d = 0.02;
  var url = element.dataset.gridsUrl + "?zoom=15&bbox=" + [lon - d, lat - d, lon + d, lat + d].map(function (v) { return v.toFixed(5); }).join(",");
  fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
    if (data) { L.geoJSON(data, { style: { color: "#1e88e5", weight: 1, fillOpacity: 0.05 } }).addTo(map); }
  });
}());
