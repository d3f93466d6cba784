/* The ledger pages' drawing map (台账): Leaflet-Geoman (vendored, MIT) draws the record's point, line or polygon
   according to the theme's layer. A point fills the form's longitude and latitude boxes (which work without this
   script); a line or polygon fills the hidden `geometry` input with its GeoJSON. The base map is the outlines of
   the regions and grids, plus the city's own tiles when the administrator set a tile URL. An address search over
   the standard addresses (一标三实) centres the map. */
(function () {
  "use strict";
  var settings = document.querySelector("[data-ledger-map]");
  var form = document.getElementById("ledger-form");
  if (!settings || !form || !window.L || !window.fetch || !window.L.PM || !window.mqMap) { return; }
  var L = window.L, data = settings.dataset, kind = data.geometryKind || "point";
  var hidden = document.querySelector("[data-ledger-geometry]");
  var removedFlag = document.querySelector("[data-ledger-geometry-removed]");   // tells the server "removed", not "unchanged"
  var box = form.querySelector("[data-mq-geo]");
  var lon = box && box.querySelector("[data-mq-geo-lon]"), lat = box && box.querySelector("[data-mq-geo-lat]");
  var colour = data.colour || "#1565c0";

  settings.hidden = false;
  var canvas = settings.querySelector(".ledger-map-canvas");
  var centre = (data.centre || "0,0").split(",").map(Number);
  var map = L.map(canvas, { minZoom: 5, maxZoom: 19, attributionControl: false })
    .setView([centre[1], centre[0]], Number(data.zoom) || 10);
  if (data.tiles) { L.tileLayer(data.tiles, { maxZoom: 19 }).addTo(map); }

  var getJSON = window.mqMap.getJSON;

  // -- base map: outlines (map-common.js), not editable, not snapped to -------------------------------------
  var base = window.mqMap.outlines(map, data, { pmIgnore: true, snapIgnore: true }, 0.12);

  // -- the drawing ---------------------------------------------------------------------------------------------
  if (map.pm.setLang) { try { map.pm.setLang("zh"); } catch (e) { /* English tooltips then */ } }
  map.pm.setPathOptions({ color: colour, fillColor: colour, fillOpacity: 0.25, weight: 3 });
  map.pm.addControls({
    position: "topleft", drawMarker: kind === "point", drawPolyline: kind === "line",
    drawPolygon: kind === "polygon", drawRectangle: kind === "polygon", drawCircle: false,
    drawCircleMarker: false, drawText: false, cutPolygon: false, rotateMode: false, editMode: true,
    dragMode: true, removalMode: true
  });
  var shape = null;   // the one drawn shape of the record

  function announce(input) {
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }
  var writing = false;
  function write() {
    if (!shape) {   // removed with Geoman's tool: nothing of the old shape is sent
      if (hidden) { hidden.value = ""; }
      if (removedFlag && kind !== "point") { removedFlag.value = "1"; }
      if (kind === "point" && lon && lat && (lon.value || lat.value)) {
        lon.value = "";
        lat.value = "";
        writing = true;
        try { announce(lon); announce(lat); } finally { writing = false; }
      }
      delete settings.dataset.drawn;
      return;
    }
    if (kind === "point" && lon && lat) {
      var p = shape.getLatLng();
      lon.value = p.lng.toFixed(6);
      lat.value = p.lat.toFixed(6);
      writing = true;
      try { announce(lon); announce(lat); } finally { writing = false; }
    } else if (hidden) {
      hidden.value = JSON.stringify(shape.toGeoJSON(7).geometry);
      if (removedFlag) { removedFlag.value = ""; }
    }
    settings.dataset.drawn = kind;
  }
  // The record's one shape, however it came (drawn, the record's own, the typed point): a new one replaces it,
  // and editing, dragging or removing it rewrites the form.
  function adopt(layer) {
    if (shape && shape !== layer) { map.removeLayer(shape); }
    shape = layer;
    layer.on("pm:edit pm:dragend pm:markerdragend", write);
  }
  map.on("pm:create", function (e) { adopt(e.layer); write(); });
  map.on("pm:remove", function (e) { if (e.layer === shape) { shape = null; write(); } });

  // What the record has now (the edit page), or the point typed in the boxes.
  function typedPoint() {
    if (!lon || !lat) { return null; }
    var x = parseFloat(lon.value), y = parseFloat(lat.value);
    return isNaN(x) || isNaN(y) || Math.abs(x) > 180 || Math.abs(y) > 90 ? null : L.latLng(y, x);
  }
  var fitted = false;
  if (data.current && kind !== "point" && !(removedFlag && removedFlag.value === "1")) {
    try {
      L.geoJSON(JSON.parse(data.current), { style: function () { return { color: colour, weight: 3 }; } })
        .eachLayer(function (layer) {
          adopt(layer.addTo(map));
          map.fitBounds(layer.getBounds ? layer.getBounds() : L.latLngBounds([layer.getLatLng()]), { maxZoom: 17, animate: false });
          fitted = true;
        });
    } catch (e) { /* a geometry Leaflet cannot draw: the page still shows where it is in words */ }
  }
  function showTyped(centreIt) {
    var point = typedPoint();
    if (!point) { return; }
    if (shape) { shape.setLatLng(point); } else { adopt(L.marker(point, { title: "记录位置（可拖动）" }).addTo(map)); }
    if (centreIt) { map.setView(point, Math.max(map.getZoom(), 16)); fitted = true; }
  }
  if (kind === "point") {
    showTyped(true);
    [lon, lat].forEach(function (input) {
      if (input) { input.addEventListener("input", function () { if (!writing) { showTyped(true); } }); }
    });
  }
  if (!fitted && data.myGridsUrl) {
    getJSON(data.myGridsUrl).then(function (c) {
      if (c.features.length && !shape) { map.fitBounds(L.geoJSON(c).getBounds(), { maxZoom: 16, animate: false }); }
    }).catch(function () {});
  }
  base.refresh();

  // -- address search (map-common.js) ------------------------------------------------------------------------
  if (data.addressesUrl) {
    window.mqMap.addressSearch({
      query: settings.querySelector(".report-map-query"), go: settings.querySelector(".report-map-go"),
      list: settings.querySelector(".report-map-results"), note: settings.querySelector(".report-map-note"),
      url: data.addressesUrl, buttonClass: "report-map-result", failed: "搜索失败，请稍后再试或直接在地图上查找",
      onPick: function (item) {
        map.setView([item.lat, item.lon], 17);
        return "已定位到：" + item.text + "，请在此处画出记录";
      }
    });
  }
  setTimeout(function () { map.invalidateSize(); }, 0);
}());
