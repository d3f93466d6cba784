/* 民情地图: region outlines as the base map (no tiles, no internet), grids coloured 红/黄/蓝, cases clustered
   and coloured by status, and every theme layer the viewer may see, grouped by department. */
(function () {
  "use strict";
  var element = document.getElementById("map");
  if (!element || !window.L) { return; }
  var data = element.dataset;
  var centre = data.centre.split(",").map(Number);
  var map = L.map(element, { preferCanvas: true, minZoom: 7, maxZoom: 18 }).setView([centre[1], centre[0]], Number(data.zoom) || 9);
  window.minqingMap = map;

  var GRID_COLOURS = { red: "#d32f2f", yellow: "#f9a825", blue: "#1e88e5" };
  var GRID_NAMES = { red: "红色", yellow: "黄色", blue: "蓝色" };
  var CLOSED = ["closed", "voided"];

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); });
  }

  // A collection may come in pages (limit/offset): follow its "next" links until every feature is in, so a
  // large city is never drawn cut off at the first page. Stops after 50 pages as a guard.
  function fetchCollection(url) {
    var features = [];
    function page(next, left) {
      return fetchJSON(next).then(function (collection) {
        features = features.concat(collection.features || []);
        var link = (collection.links || []).filter(function (item) { return item.rel === "next"; })[0];
        if (link && left > 0) { return page(link.href, left - 1); }
        return { type: "FeatureCollection", features: features, numberMatched: collection.numberMatched };
      });
    }
    return page(url, 50);
  }

  function withQuery(url, params) {
    var query = Object.keys(params).filter(function (key) { return params[key] !== undefined; })
      .map(function (key) { return encodeURIComponent(key) + "=" + encodeURIComponent(params[key]); }).join("&");
    return url + (url.indexOf("?") >= 0 ? "&" : "?") + query;
  }

  function bbox() {
    var b = map.getBounds();
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
  }

  /* Popups are built from text nodes, never from HTML strings: names come from users. */
  function popup(title, lines) {
    var box = document.createElement("div");
    var heading = document.createElement("strong");
    heading.textContent = title;
    box.appendChild(heading);
    lines.forEach(function (line) {
      var p = document.createElement("div");
      if (line.href) {
        var a = document.createElement("a");
        a.href = line.href;
        a.textContent = line.text;
        p.appendChild(a);
      } else {
        p.textContent = line;
      }
      box.appendChild(p);
    });
    return box;
  }

  var regions = L.geoJSON(null, {
    interactive: false,
    style: function () { return { color: "#37474f", weight: 2, fill: false, dashArray: "4 3" }; }
  }).addTo(map);

  var grids = L.geoJSON(null, {
    style: function (feature) {
      var colour = GRID_COLOURS[feature.properties.colour] || GRID_COLOURS.blue;
      return { color: colour, weight: 1, fillColor: colour, fillOpacity: 0.18 };
    },
    onEachFeature: function (feature, layer) {
      var p = feature.properties;
      layer.bindPopup(popup(p.name, [
        "网格编码：" + p.code,
        "风险等级：" + (GRID_NAMES[p.colour] || p.colour),
        "原因：" + (p.colour_reason || "—")
      ]));
    }
  }).addTo(map);

  function caseColour(status, deadline) {
    if (CLOSED.indexOf(status) >= 0) { return "#2e7d32"; }
    if (deadline && new Date(deadline) < new Date()) { return "#c62828"; }
    return status === "reported" ? "#ef6c00" : "#1565c0";
  }

  var cases = L.markerClusterGroup ? L.markerClusterGroup({ chunkedLoading: true }) : L.layerGroup();
  map.addLayer(cases);

  L.control.layers(null, { "网格（红/黄/蓝）": grids, "事件": cases }, { collapsed: window.innerWidth < 700 }).addTo(map);
  var themeLayers = {};

  /* The layer panel (about 60 layers): one group per department, a search over layer and department names.
     Built from text nodes only: titles and department names come from users (the theme builder). */
  var groupsBox = document.getElementById("layer-groups");
  var searchBox = document.getElementById("layer-search");
  var countBox = document.getElementById("layer-count");
  var noneBox = document.getElementById("layer-none");

  function layerLabel(layer, geo, owner) {
    var label = document.createElement("label");
    label.className = "layer-item";
    label.dataset.search = (layer.title + " " + owner).toLowerCase();
    var box = document.createElement("input");
    box.type = "checkbox";
    box.value = layer.key;
    box.addEventListener("change", function () {
      if (box.checked) { map.addLayer(geo); refreshThemeLayers(); } else { map.removeLayer(geo); }
    });
    var swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.backgroundColor = (layer.style || {}).color || "#6a1b9a";   // CSSOM, allowed by the CSP
    var text = document.createElement("span");
    text.textContent = layer.title;
    label.appendChild(box);
    label.appendChild(swatch);
    label.appendChild(text);
    return label;
  }

  function filterLayers() {
    var query = (searchBox.value || "").trim().toLowerCase();
    var shown = 0;
    Array.prototype.forEach.call(groupsBox.querySelectorAll(".layer-group"), function (group) {
      var inGroup = 0;
      Array.prototype.forEach.call(group.querySelectorAll(".layer-item"), function (item) {
        var match = !query || item.dataset.search.indexOf(query) >= 0;
        item.hidden = !match;
        if (match) { inGroup += 1; }
      });
      group.hidden = inGroup === 0;
      if (query) { group.open = inGroup > 0; }
      shown += inGroup;
    });
    noneBox.hidden = shown > 0;
  }

  function layerGroups(answer) {
    var groups = {};
    var order = [];
    answer.layers.forEach(function (layer) {
      var owner = layer.department_name || layer.department || "跨部门";   // warnings have no department
      if (!groups[owner]) { groups[owner] = []; order.push(owner); }
      groups[owner].push(layer);
    });
    return order.map(function (owner) { return { name: owner, layers: groups[owner] }; });
  }

  function loadThemeLayers() {
    fetchJSON(data.layersUrl).then(function (answer) {
      groupsBox.replaceChildren();
      layerGroups(answer).forEach(function (group) {
        var details = document.createElement("details");
        details.className = "layer-group";
        var summary = document.createElement("summary");
        summary.textContent = group.name + "（" + group.layers.length + "）";
        details.appendChild(summary);
        group.layers.forEach(function (layer) {
          var style = layer.style || {};
          var geo = L.geoJSON(null, {
            style: function () { return style; },
            pointToLayer: function (feature, latlng) {
              return L.circleMarker(latlng, { radius: style.radius || 6, color: style.color || "#6a1b9a", weight: 1, fillOpacity: 0.7 });
            },
            onEachFeature: function (feature, leafletLayer) {
              var p = feature.properties || {};
              leafletLayer.bindPopup(popup(p.title || layer.title, [group.name, p.reason || ""]));
            }
          });
          themeLayers[layer.key] = { layer: geo, url: layer.url };
          details.appendChild(layerLabel(layer, geo, group.name));
        });
        groupsBox.appendChild(details);
      });
      countBox.textContent = "（" + answer.layers.length + "）";
      filterLayers();
    }).catch(function () {   // layers are optional: the map still works
      groupsBox.replaceChildren();
      noneBox.hidden = false;
      noneBox.textContent = "图层暂时无法载入";
    });
  }
  if (searchBox) { searchBox.addEventListener("input", filterLayers); }

  /* The grid worker's own grid: a thick outline above the risk colours, whatever the zoom; the map opens on it. */
  var ownGrids = L.geoJSON(null, {
    interactive: false,
    style: function () { return { color: "#6a1b9a", weight: 4, fill: false, dashArray: "8 4" }; }
  });
  function loadOwnGrids() {
    if (!data.myGridsUrl) { return; }
    fetchJSON(data.myGridsUrl).then(function (collection) {
      if (!collection.features.length) { return; }
      ownGrids.addData(collection).addTo(map);
      ownGrids.bringToFront();
      element.dataset.ownGridsShown = collection.features.length;
      map.fitBounds(ownGrids.getBounds(), { maxZoom: 16, animate: false });
    }).catch(function () { /* the outline is a help, not a need */ });
  }

  // On a phone the panels start folded so the map is seen first.
  if (window.innerWidth < 700) {
    ["map-legend", "layer-panel"].forEach(function (id) {
      var panel = document.getElementById(id);
      if (panel) { panel.open = false; }
    });
  }

  function refreshThemeLayers() {
    Object.keys(themeLayers).forEach(function (key) {
      var entry = themeLayers[key];
      if (!map.hasLayer(entry.layer)) { return; }
      fetchCollection(withQuery(entry.url, { bbox: bbox() })).then(function (collection) {
        entry.layer.clearLayers();
        entry.layer.addData(collection);
      });
    });
  }

  var pending = null;
  function refresh() {
    if (pending) { clearTimeout(pending); }
    pending = setTimeout(function () {
      var zoom = map.getZoom();
      var box = bbox();
      fetchCollection(withQuery(data.regionsUrl, { level: zoom < 11 ? "county" : "township", bbox: box, zoom: zoom }))
        .then(function (collection) { regions.clearLayers(); regions.addData(collection); });
      fetchCollection(withQuery(data.gridsUrl, { bbox: box, zoom: zoom }))
        .then(function (collection) { grids.clearLayers(); grids.addData(collection); element.dataset.gridsShown = collection.features.length; });
      fetchCollection(withQuery(data.casesUrl, { bbox: box })).then(function (collection) {
        cases.clearLayers();
        collection.features.forEach(function (feature) {
          var p = feature.properties;
          var c = feature.geometry.coordinates;
          var marker = L.circleMarker([c[1], c[0]], { radius: 7, color: "#fff", weight: 1, fillColor: caseColour(p.status, p.deadline), fillOpacity: 0.9 });
          marker.bindPopup(popup(p.title, [{ text: "查看事件", href: data.caseUrl.replace(/0$/, String(feature.id)) }]));
          cases.addLayer(marker);
        });
        element.dataset.casesShown = collection.features.length;
      });
      refreshThemeLayers();
    }, 150);
  }

  map.on("moveend", refresh);
  map.on("overlayadd", refreshThemeLayers);
  loadThemeLayers();
  loadOwnGrids();
  refresh();
}());
