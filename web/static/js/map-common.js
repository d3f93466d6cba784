/* What the maps of the forms share (the report forms' picker, report-map.js; the ledgers' drawing map,
   ledger-map.js): JSON requests, the outline base map (regions, and grids from zoom 12) that follows the view,
   and the address search over the 一标三实 standard addresses (/report-map/addresses.json).
   Loaded before the map's own script as window.mqMap; no inline script (the CSP allows none). */
(function () {
  "use strict";
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); });
  }
  function withQuery(url, params) {
    return url + (url.indexOf("?") >= 0 ? "&" : "?") + new URLSearchParams(params).toString();
  }

  /* The outlines under the map: `data` holds regionsUrl and gridsUrl; `extra` are Leaflet layer options added to
     both layers (the drawing map keeps Geoman off them). Returns {regions, grids, refresh}; the outlines follow
     the view by themselves, `refresh()` loads them now. */
  function outlines(map, data, extra, gridFillOpacity) {
    var L = window.L, base = L.extend({ interactive: false }, extra || {});
    var regions = L.geoJSON(null, L.extend({ style: function () {
      return { color: "#78909c", weight: 1, fill: false }; } }, base)).addTo(map);
    var grids = L.geoJSON(null, L.extend({ style: function () {
      return { color: "#1e88e5", weight: 1, fillColor: "#bbdefb", fillOpacity: gridFillOpacity || 0.15 }; } },
      base)).addTo(map);
    var pending = null;
    function refresh() {
      clearTimeout(pending);
      pending = setTimeout(function () {
        var b = map.getBounds(), zoom = map.getZoom();
        var where = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
          .map(function (v) { return v.toFixed(5); }).join(",");
        if (data.regionsUrl) {
          getJSON(withQuery(data.regionsUrl, { level: zoom < 11 ? "county" : "township", bbox: where, zoom: zoom }))
            .then(function (c) { regions.clearLayers(); regions.addData(c); }).catch(function () {});
        }
        if (data.gridsUrl && zoom >= 12) {
          getJSON(withQuery(data.gridsUrl, { bbox: where, zoom: zoom }))
            .then(function (c) { grids.clearLayers(); grids.addData(c); }).catch(function () {});
        } else {
          grids.clearLayers();
        }
      }, 200);
    }
    map.on("moveend", refresh);
    return { regions: regions, grids: grids, refresh: refresh };
  }

  /* A query box, a search button, a list of results as buttons and a note line; picking a result calls
     `onPick(item)` with {text, lon, lat}, whose answer becomes the note. */
  function addressSearch(options) {
    var query = options.query, list = options.list, note = options.note;
    function search() {
      var text = query.value.trim();
      list.innerHTML = "";
      if (text.length < 2) { note.textContent = "请至少输入 2 个字"; return; }
      note.textContent = "正在搜索…";
      getJSON(withQuery(options.url, { q: text.slice(0, 40) })).then(function (answer) {
        note.textContent = answer.message || "";
        answer.results.forEach(function (item) {
          var li = document.createElement("li"), b = document.createElement("button");
          b.type = "button";
          b.className = "mq-button " + options.buttonClass;
          b.textContent = item.text;
          b.addEventListener("click", function () {
            list.innerHTML = "";
            note.textContent = options.onPick(item);
          });
          li.appendChild(b);
          list.appendChild(li);
        });
      }).catch(function () { note.textContent = options.failed; });
    }
    options.go.addEventListener("click", search);
    query.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); search(); }   // Enter searches; it never sends the form
    });
  }

  window.mqMap = { getJSON: getJSON, withQuery: withQuery, outlines: outlines, addressSearch: addressSearch };
}());
