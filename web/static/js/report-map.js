/* The report forms' map picker. The longitude and latitude boxes of the form stay the truth (and work without
   this script); the map only fills them: tap to place the marker, drag it to adjust, "使用我的位置" (forms.js)
   moves it, and a search over the standard addresses (一标三实) puts it on an address. No tiles: the outlines of
   the counties (and, for staff, of the grids in view) are the base map; the reporter's own grid is drawn thick. */
(function () {
  "use strict";
  var settings = document.querySelector("[data-report-map]");
  if (!settings || !window.L || !window.fetch || !window.mqMap) { return; }
  var form = settings.closest("section") && settings.closest("section").querySelector("form[data-mq-form]");
  var box = form && form.querySelector("[data-mq-geo]");
  if (!box) { return; }
  var lon = box.querySelector("[data-mq-geo-lon]"), lat = box.querySelector("[data-mq-geo-lat]");
  var data = settings.dataset, L = window.L;

  box.appendChild(settings);
  settings.hidden = false;
  var canvas = settings.querySelector(".report-map-canvas");
  var centre = (data.centre || "0,0").split(",").map(Number);
  var map = L.map(canvas, { minZoom: 5, maxZoom: 19, zoomControl: true, attributionControl: false })
    .setView([centre[1], centre[0]], Number(data.zoom) || 10);
  var marker = null;

  var getJSON = window.mqMap.getJSON;

  // -- base map: outlines only (map-common.js), and the reporter's own grid drawn thick ------------------------
  var base = window.mqMap.outlines(map, data);
  var own = L.geoJSON(null, { interactive: false,
    style: function () { return { color: "#6a1b9a", weight: 4, fill: false, dashArray: "8 4" }; } }).addTo(map);
  base.refresh();
  if (data.myGridsUrl) {
    getJSON(data.myGridsUrl).then(function (c) {
      if (!c.features.length) { return; }
      own.addData(c);
      settings.dataset.ownGridShown = String(c.features.length);
      if (!marker) { map.fitBounds(own.getBounds(), { maxZoom: 16, animate: false }); }
    }).catch(function () { /* the outline is a help, not a need */ });
  }

  // -- the point ------------------------------------------------------------------------------------------------
  function current() {
    var x = parseFloat(lon.value), y = parseFloat(lat.value);
    return isNaN(x) || isNaN(y) || Math.abs(x) > 180 || Math.abs(y) > 90 ? null : [y, x];
  }
  function show(centreIt) {
    var point = current();
    if (!point) { return; }
    if (marker) {
      marker.setLatLng(point);
    } else {
      marker = L.marker(point, { draggable: true, autoPan: true, title: "事发位置（可拖动）", keyboard: true,
        icon: L.divIcon({ className: "report-map-pin", iconSize: [22, 22], iconAnchor: [11, 11] }) }).addTo(map);
      marker.on("dragend", function () { set(marker.getLatLng(), false); });
    }
    if (centreIt) { map.setView(point, Math.max(map.getZoom(), 16)); }
  }
  var setting = false;   // the picker's own announcements of a new point: the map is already where it should be
  function announce(input) {
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }
  function set(latlng, centreIt) {
    lon.value = latlng.lng.toFixed(6);
    lat.value = latlng.lat.toFixed(6);
    show(centreIt);
    setting = true;
    try { announce(lat); announce(lon); } finally { setting = false; }
  }
  map.on("click", function (e) { set(e.latlng, false); });
  // Typed by hand, or filled by "使用我的位置" (forms.js): the marker follows and the map centres on it.
  [lon, lat].forEach(function (input) {
    input.addEventListener("input", function () { if (!setting) { show(true); } });
  });
  show(true);

  // -- address search (map-common.js) ------------------------------------------------------------------------
  var address = form.querySelector("input[name$='-address'], textarea[name$='-address']");
  window.mqMap.addressSearch({
    query: settings.querySelector(".report-map-query"), go: settings.querySelector(".report-map-go"),
    list: settings.querySelector(".report-map-results"), note: settings.querySelector(".report-map-note"),
    url: data.addressesUrl, buttonClass: "report-map-result", failed: "搜索失败，请稍后再试或直接在地图上选点",
    onPick: function (item) {
      set(L.latLng(item.lat, item.lon), true);
      if (address) { address.value = item.text; announce(address); }
      return "已定位到：" + item.text;
    }
  });
  // The map's size is known only once it is in the page's flow.
  setTimeout(function () { map.invalidateSize(); }, 0);
}());
