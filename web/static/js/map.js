/* 民情地图: region outlines as the base map (no tiles, no internet), grids coloured 红/黄/蓝, cases (open and
   recent ones: counted per region by the server while zoomed out, as markers coloured by status in a street),
   and every theme layer the viewer may see, grouped by department. */
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

  // The cases overlay holds either the server's numbered circles (one per county, township or village, below
  // zoom `markersFrom`) or the markers of the cases in view: a year of a city's cases is never sent as markers.
  var cases = L.layerGroup();
  var caseMarkers = L.markerClusterGroup ? L.markerClusterGroup({ chunkedLoading: true }) : L.layerGroup();
  var caseClusters = L.layerGroup();
  cases.addLayer(caseMarkers).addLayer(caseClusters);
  map.addLayer(cases);
  var markersFrom = Number(data.markersFrom) || 15;
  var periodBox = document.getElementById("case-period");
  var caseCount = document.getElementById("case-count");

  L.control.layers(null, { "网格（红/黄/蓝）": grids, "事件": cases }, { collapsed: window.innerWidth < 700 }).addTo(map);
  var themeLayers = {};
  var themeFilters = {};   // layer key → {field, value, patrol} chosen under the layer's name
  // A record's patrol status (from the theme's patrol period and the record's last patrol): its marker's ring.
  var PATROL = { on_time: { label: "按期巡查", colour: "" }, due_soon: { label: "即将到期", colour: "#f9a825" },
                 overdue: { label: "巡查超期", colour: "#c62828" } };

  /* The layer panel (about 60 layers): one group per department, a search over layer and department names.
     Built from text nodes only: titles and department names come from users (the theme builder). */
  var groupsBox = document.getElementById("layer-groups");
  var searchBox = document.getElementById("layer-search");
  var countBox = document.getElementById("layer-count");
  var noneBox = document.getElementById("layer-none");

  function layerLabel(layer, geo, owner) {
    var item = document.createElement("div");
    item.className = "layer-item";
    item.dataset.search = (layer.title + " " + owner).toLowerCase();
    var label = document.createElement("label");
    label.className = "layer-toggle";
    var box = document.createElement("input");
    box.type = "checkbox";
    box.value = layer.key;
    var swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.backgroundColor = (layer.style || {}).color || "#6a1b9a";   // CSSOM, allowed by the CSP
    var text = document.createElement("span");
    text.textContent = layer.title;
    label.appendChild(box);
    label.appendChild(swatch);
    label.appendChild(text);
    item.appendChild(label);
    var filters = recordFilters(layer);
    if (filters) { item.appendChild(filters); }
    box.addEventListener("change", function () {
      if (filters) { filters.hidden = !box.checked; }
      if (box.checked) { map.addLayer(geo); refreshThemeLayers(); } else { map.removeLayer(geo); }
    });
    return item;
  }

  /* A ledger layer's filters: one field of its record form with a fixed set of values (enum, yes/no), and the
     records' patrol status. Shown under the layer's name while the layer is on. */
  function option(select, value, text) {
    var choice = document.createElement("option");
    choice.value = value;
    choice.textContent = text;
    select.appendChild(choice);
  }

  function recordFilters(layer) {
    var fields = layer.filters || [];
    if (!layer.records || (!fields.length && !layer.patrol_every_days)) { return null; }
    var box = document.createElement("div");
    box.className = "record-filters";
    box.hidden = true;
    var state = themeFilters[layer.key] = { field: "", value: "", patrol: "" };
    if (fields.length) {
      var field = document.createElement("select");
      field.className = "record-filter-field";
      field.setAttribute("aria-label", "按字段筛选");
      var value = document.createElement("select");
      value.className = "record-filter-value";
      value.setAttribute("aria-label", "字段取值");
      value.hidden = true;
      option(field, "", "全部记录");
      fields.forEach(function (item) { option(field, item.key, item.title); });
      field.addEventListener("change", function () {
        value.replaceChildren();
        var chosen = fields.filter(function (item) { return item.key === field.value; })[0];
        value.hidden = !chosen;
        if (chosen) { chosen.values.forEach(function (item) { option(value, item.value, item.label); }); }
        state.field = field.value;
        state.value = chosen ? value.value : "";
        refreshThemeLayers();
      });
      value.addEventListener("change", function () { state.value = value.value; refreshThemeLayers(); });
      box.appendChild(field);
      box.appendChild(value);
    }
    if (layer.patrol_every_days) {
      var patrol = document.createElement("select");
      patrol.className = "record-filter-patrol";
      patrol.setAttribute("aria-label", "巡查状态");
      option(patrol, "", "全部巡查状态");
      Object.keys(PATROL).forEach(function (key) { option(patrol, key, PATROL[key].label); });
      patrol.addEventListener("change", function () { state.patrol = patrol.value; refreshThemeLayers(); });
      box.appendChild(patrol);
    }
    return box;
  }

  /* A record's marker: a dot in the layer's colour, ringed by its patrol status (a DOM element, so the markers
     cluster and can be clicked on a phone). */
  function recordMarker(feature, latlng, colour) {
    var patrol = (feature.properties || {}).patrol;
    var dot = document.createElement("span");
    dot.className = "record-dot" + (patrol ? " patrol-" + patrol.status : "");
    dot.style.backgroundColor = colour;   // CSSOM, allowed by the CSP
    return L.marker(latlng, { icon: L.divIcon({ html: dot, className: "record-marker", iconSize: [16, 16] }),
                              title: (feature.properties || {}).label || "" });
  }

  function recordPopup(feature, layerTitle, owner) {
    var p = feature.properties || {};
    var lines = [layerTitle + " · " + owner];
    (p.fields || []).forEach(function (field) { lines.push(field.title + "：" + field.value); });
    if (p.patrol) {
      lines.push("巡查状态：" + p.patrol.label + "（应于 " + p.patrol.due.slice(0, 10) + " 前巡查）");
    }
    var box = popup(p.label || layerTitle, lines);
    box.className = "record-popup";
    return box;
  }

  function themeStyle(style, feature) {
    var patrol = (feature.properties || {}).patrol;
    var out = {};
    Object.keys(style).forEach(function (key) { out[key] = style[key]; });
    if (patrol && PATROL[patrol.status].colour) {
      out.color = PATROL[patrol.status].colour;
      out.dashArray = "6 4";
      out.weight = Math.max(style.weight || 3, 3);
    }
    return out;
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
          var colour = style.color || "#6a1b9a";
          var geo = (layer.geometry === "point" && L.markerClusterGroup) ?
            L.markerClusterGroup({ chunkedLoading: true, maxClusterRadius: 50 }) : L.featureGroup();
          var options = {
            style: function (feature) { return themeStyle(style, feature); },
            pointToLayer: function (feature, latlng) {
              if ((feature.properties || {}).kind === "record") { return recordMarker(feature, latlng, colour); }
              return L.circleMarker(latlng, { radius: style.radius || 6, color: colour, weight: 1, fillOpacity: 0.7 });
            },
            onEachFeature: function (feature, leafletLayer) {
              var p = feature.properties || {};
              if (p.kind === "record") {
                leafletLayer.bindPopup(recordPopup(feature, layer.title, group.name), { maxHeight: 320 });
              } else if (p.kind === "case") {
                leafletLayer.bindPopup(popup(p.title || layer.title, [group.name,
                  { text: "查看事件", href: data.caseUrl.replace(/0$/, String(p.case_id)) }]));
              } else {
                leafletLayer.bindPopup(popup(p.title || layer.title, [group.name, p.reason || ""]));
              }
            }
          };
          themeLayers[layer.key] = { layer: geo, url: layer.url, options: options };
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
      var chosen = themeFilters[key] || {};
      var query = { bbox: bbox(), patrol: chosen.patrol || undefined };
      if (chosen.field && chosen.value) { query.field = chosen.field; query.value = chosen.value; }
      var asked = entry.asked = (entry.asked || 0) + 1;   // an answer to an older question (filter) is dropped
      fetchCollection(withQuery(entry.url, query)).then(function (collection) {
        if (asked !== entry.asked) { return; }
        entry.layer.clearLayers();
        L.geoJSON(collection, entry.options).eachLayer(function (item) { entry.layer.addLayer(item); });
        element.dataset["layer_" + key.replace(/\W/g, "_")] = collection.features.length;
      });
    });
  }

  /* A region's circle: its number of cases, red when some are overdue, orange when some are open; a click
     zooms in to where the next level (or the markers) shows. Text only, sized by a class (the CSP: no styles). */
  function clusterMarker(feature) {
    var p = feature.properties;
    var c = feature.geometry.coordinates;
    var size = p.count >= 1000 ? "large" : (p.count >= 100 ? "medium" : "small");
    var state = p.overdue > 0 ? "overdue" : (p.open > 0 ? "open" : "closed");
    var dot = document.createElement("span");
    dot.textContent = p.count >= 10000 ? Math.floor(p.count / 1000) + "k" : String(p.count);
    var pixels = { small: 30, medium: 38, large: 46 }[size];
    var marker = L.marker([c[1], c[0]], {
      icon: L.divIcon({ html: dot, className: "case-cluster case-cluster-" + size + " case-cluster-" + state,
                        iconSize: [pixels, pixels] }),
      title: (p.name || p.region_code) + "：" + p.count + " 件（未办结 " + p.open + "，超期 " + p.overdue + "）"
    });
    marker.on("click", function () { map.setView([c[1], c[0]], Math.max(p.zoom_in, map.getZoom() + 1)); });
    return marker;
  }

  function caseMarker(feature) {
    var p = feature.properties;
    var c = feature.geometry.coordinates;
    var marker = L.circleMarker([c[1], c[0]], { radius: 7, color: "#fff", weight: 1, fillColor: caseColour(p.status, p.deadline), fillOpacity: 0.9 });
    marker.bindPopup(popup(p.title, [{ text: "查看事件", href: data.caseUrl.replace(/0$/, String(feature.id)) }]));
    return marker;
  }

  function say(text) { if (caseCount) { caseCount.textContent = text; } }

  var casesAsked = 0;   // an answer to an older view or period is dropped
  function refreshCases(zoom, box) {
    var days = periodBox ? periodBox.value : "30";
    var asked = casesAsked += 1;
    var period = "未办结及近 " + days + " 天上报";
    if (zoom < markersFrom) {
      fetchJSON(withQuery(data.clustersUrl, { bbox: box, zoom: zoom, recent_days: days })).then(function (collection) {
        if (asked !== casesAsked) { return; }
        caseMarkers.clearLayers();
        caseClusters.clearLayers();
        collection.features.forEach(function (feature) { caseClusters.addLayer(clusterMarker(feature)); });
        element.dataset.casesShown = 0;
        element.dataset.clustersShown = collection.features.length;
        element.dataset.casesInView = collection.casesMatched;   // the cases the circles stand for
        say("视野内" + period + "的事件 " + collection.casesMatched + " 件，按区划聚合；放大到街巷显示每件事件");
      });
      return;
    }
    // One page of the newest cases in view: in a street they are few; more than the limit is said, not hidden
    fetchJSON(withQuery(data.casesUrl, { bbox: box, recent_days: days, limit: data.markerLimit })).then(function (collection) {
      if (asked !== casesAsked) { return; }
      caseClusters.clearLayers();
      caseMarkers.clearLayers();
      caseMarkers.addLayers ? caseMarkers.addLayers(collection.features.map(caseMarker))
                            : collection.features.forEach(function (feature) { caseMarkers.addLayer(caseMarker(feature)); });
      element.dataset.casesShown = collection.features.length;
      element.dataset.clustersShown = 0;
      element.dataset.casesInView = collection.numberMatched;
      var shown = collection.numberReturned < collection.numberMatched ?
        "，显示最新的 " + collection.numberReturned + " 件，请放大查看其余" : "";
      say("视野内" + period + "的事件 " + collection.numberMatched + " 件" + shown);
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
      refreshCases(zoom, box);
      refreshThemeLayers();
    }, 150);
  }

  map.on("moveend", refresh);
  if (periodBox) { periodBox.addEventListener("change", function () { refreshCases(map.getZoom(), bbox()); }); }
  map.on("overlayadd", refreshThemeLayers);
  loadThemeLayers();
  loadOwnGrids();
  refresh();
}());
