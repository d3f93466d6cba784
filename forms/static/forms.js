/*
 * Minqing forms: progressive enhancement for forms rendered by minqing.forms.
 *
 * Everything here is optional: without this script conditional fields stay visible (the server
 * drops values that do not apply), and the add/remove row buttons submit the form so the server
 * adds or removes the row. Loaded as a file (CSP without inline scripts); reads data-mq-*.
 *
 * - data-mq-when: show a field only while one of its gates is open. Gates are
 *   {"if": <JSON Schema subset>, "is": true|false} or {"present": "<sibling name>"}, evaluated on
 *   the values of the sibling fields of the same object, with the same fixed-point iteration
 *   as minqing/forms/conditions.py. Hidden fields are disabled, so they are not submitted.
 * - data-mq-repeat: add rows from the <template data-mq-row-template>, remove rows.
 * - data-mq-required inside data-mq-optional groups/rows: becomes `required` once the
 *   group/row is used (spare empty rows must not block submitting).
 * - data-mq-geo: "use my location" (navigator.geolocation) and, when Leaflet (window.L) is on
 *   the page and the form has data-mq-tile-url, a map picker.
 * - data-mq-max-bytes / accept on file inputs: checked before upload.
 */
(function () {
  "use strict";

  var PLACEHOLDER = "__INDEX__";
  var RENAMED = ["name", "id", "for", "aria-describedby", "data-mq-repeat"];
  var NUMBER = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

  function all(root, selector) {
    return Array.prototype.slice.call(root.querySelectorAll(selector));
  }

  // -- values, as minqing/forms/raw.py would parse them ------------------------------------

  function parseScalar(type, kind, text) {
    if (kind === "textarea") {
      return text.trim() ? text.replace(/\r\n/g, "\n") : undefined;
    }
    text = text.trim();
    if (!text) return undefined;
    if (type === "integer" || type === "number") return NUMBER.test(text) ? Number(text) : text;
    if (type === "boolean") return text === "true" ? true : text === "false" ? false : text;
    if (kind === "idcard") return text.toUpperCase();
    if (kind === "mobile") {
      text = text.replace(/[\s-]/g, "");
      return text.indexOf("+86") === 0 ? text.slice(3) : text;
    }
    return text;
  }

  // The controls of a field wrapper, not those of fields nested in it.
  function controls(wrapper) {
    return all(wrapper, "input, select, textarea").filter(function (c) {
      return c.closest("[data-mq-field]") === wrapper;
    });
  }

  function checked(list) {
    return list.filter(function (c) { return c.checked; });
  }

  function valueOf(wrapper) {
    var kind = wrapper.dataset.mqKind, type = wrapper.dataset.mqType, inputs = controls(wrapper);
    if (kind === "checkbox") return inputs.length ? inputs[0].checked : undefined;
    if (kind === "checkboxes") {
      var values = checked(inputs).map(function (c) { return parseScalar(type, kind, c.value); });
      return values.length ? values : undefined;
    }
    if (kind === "radio" || (kind === "yesno" && inputs[0] && inputs[0].type === "radio")) {
      var on = checked(inputs)[0];
      return on ? parseScalar(type, kind, on.value) : undefined;
    }
    if (kind === "geo" || kind === "attachment" || kind === "attachments") {
      return isPristine(wrapper) ? undefined : true;  // only presence is used in conditions
    }
    if (kind === "group" || kind === "repeat") return undefined;
    return inputs.length ? parseScalar(type, kind, inputs[0].value) : undefined;
  }

  // What the server's "left as offered" test compares (documents._pristine).
  function rawOf(wrapper) {
    var kind = wrapper.dataset.mqKind, inputs = controls(wrapper);
    if (kind === "checkbox") return inputs.length && inputs[0].checked ? "true" : "false";
    if (kind === "checkboxes" || kind === "radio" || kind === "yesno" && inputs[0] && inputs[0].type === "radio") {
      return checked(inputs).map(function (c) { return c.value; }).sort().join("\n");
    }
    if (kind === "attachment" || kind === "attachments") {
      var used = inputs.some(function (c) { return c.type === "file" ? c.files.length > 0 : c.checked; });
      return used ? "used" : "";
    }
    return inputs.map(function (c) { return c.value.trim(); }).join(kind === "geo" ? "," : "").replace(/^,$/, "");
  }

  function isPristine(wrapper) {
    var value = rawOf(wrapper), initial = wrapper.dataset.mqDefault;
    if (wrapper.dataset.mqKind === "checkbox") return value === (initial || "false");
    return value === "" || (initial !== undefined && value === initial);
  }

  // -- conditions ---------------------------------------------------------------------------

  function equal(a, b) {
    return a === b;  // conditions compare scalars; JSON 1 and 1.0 are both Number here
  }

  function testValue(t, v) {
    if ("const" in t && !equal(t["const"], v)) return false;
    if ("enum" in t && !t["enum"].some(function (e) { return equal(e, v); })) return false;
    if (typeof v === "number") {
      if ("minimum" in t && v < t.minimum) return false;
      if ("maximum" in t && v > t.maximum) return false;
      if ("exclusiveMinimum" in t && v <= t.exclusiveMinimum) return false;
      if ("exclusiveMaximum" in t && v >= t.exclusiveMaximum) return false;
    }
    if ("contains" in t && Array.isArray(v)) {
      return v.some(function (item) { return testValue(t.contains, item); });
    }
    return true;
  }

  function matches(schema, obj) {
    var required = schema.required || [], props = schema.properties || {};
    for (var i = 0; i < required.length; i++) {
      if (!(required[i] in obj)) return false;
    }
    return Object.keys(props).every(function (name) {
      return !(name in obj) || testValue(props[name], obj[name]);
    });
  }

  function isOpen(wrapper, view) {
    if (!wrapper.dataset.mqWhen) return true;
    return JSON.parse(wrapper.dataset.mqWhen).some(function (gate) {
      return "present" in gate ? gate.present in view : matches(gate["if"], view) === gate.is;
    });
  }

  function ownObject(el) {
    return el.parentElement ? el.parentElement.closest("[data-mq-object]") : null;
  }

  function applyConditions(container) {
    var fields = all(container, "[data-mq-field]").filter(function (f) { return ownObject(f) === container; });
    var values = {};
    fields.forEach(function (f) {
      var v = valueOf(f);
      if (v !== undefined) values[f.dataset.mqField] = v;
    });
    var current = fields.map(function (f) { return f.dataset.mqField; });
    for (var round = 0; round <= fields.length; round++) {
      var view = {};
      Object.keys(values).forEach(function (k) { if (current.indexOf(k) >= 0) view[k] = values[k]; });
      var next = fields.filter(function (f) { return isOpen(f, view); }).map(function (f) { return f.dataset.mqField; });
      if (next.join("\u0000") === current.join("\u0000")) break;
      current = next;
    }
    fields.forEach(function (f) { setApplicable(f, current.indexOf(f.dataset.mqField) >= 0); });
  }

  function setApplicable(wrapper, on) {
    if (wrapper.hidden === !on) return;
    wrapper.hidden = !on;
    all(wrapper, "input, select, textarea, button").forEach(function (c) {
      if (!on && !c.disabled) {
        c.disabled = true;
        c.dataset.mqDisabled = "1";
      } else if (on && c.dataset.mqDisabled) {
        c.disabled = false;
        delete c.dataset.mqDisabled;
      }
    });
  }

  // -- required inside optional groups and rows ----------------------------------------------

  function applyRequired(form) {
    all(form, "[data-mq-required]").forEach(function (c) {
      var scope = c.closest("[data-mq-optional]");
      var used = !scope || all(scope, "[data-mq-field]").some(function (w) {
        var kind = w.dataset.mqKind;
        return kind !== "group" && kind !== "repeat" && !isPristine(w);
      });
      c.required = used && !c.disabled;
    });
  }

  // -- repeat groups --------------------------------------------------------------------------

  // A direct child of el matching selector: querySelector would also find those of nested repeats.
  function child(el, selector) {
    return Array.prototype.filter.call(el.children, function (c) { return c.matches(selector); })[0] || null;
  }

  function rowsOf(repeat) {
    var box = child(repeat, "[data-mq-rows]");
    return Array.prototype.slice.call(box.children).filter(function (r) { return r.hasAttribute("data-mq-row"); });
  }

  function rename(root, from, to) {
    all(root, "*").forEach(function (el) {
      RENAMED.forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value && value.indexOf(from) >= 0) el.setAttribute(attr, value.split(from).join(to));
      });
      if (el.tagName === "TEMPLATE") rename(el.content, from, to);  // rows of nested repeats
    });
  }

  function addRow(form, repeat) {
    var rows = rowsOf(repeat), max = repeat.dataset.mqMax ? Number(repeat.dataset.mqMax) : Infinity;
    if (rows.length >= max) return;
    var next = Number(repeat.dataset.mqNext || rows.length);
    var prefix = repeat.dataset.mqRepeat;
    var fragment = child(repeat, "template[data-mq-row-template]").content.cloneNode(true);
    rename(fragment, prefix + "-" + PLACEHOLDER, prefix + "-" + next);
    repeat.dataset.mqNext = String(next + 1);
    var row = fragment.querySelector("[data-mq-row]");
    child(repeat, "[data-mq-rows]").appendChild(fragment);
    updateRows(repeat);
    all(row, "[data-mq-repeat]").forEach(function (r) { initRepeat(r); updateRows(r); });
    all(row, "[data-mq-geo]").forEach(function (g) { setupGeo(form, g); });
    var first = row.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  function removeRow(repeat, row) {
    if (rowsOf(repeat).length <= Number(repeat.dataset.mqMin || 0)) return;
    row.parentNode.removeChild(row);
    updateRows(repeat);
  }

  function updateRows(repeat) {
    var rows = rowsOf(repeat), min = Number(repeat.dataset.mqMin || 0);
    var max = repeat.dataset.mqMax ? Number(repeat.dataset.mqMax) : Infinity;
    var label = repeat.dataset.mqRowLabel || "第{n}项";
    rows.forEach(function (row, i) {
      var title = child(row, "[data-mq-row-title]");
      if (title) title.textContent = label.replace("{n}", String(i + 1));
      row.toggleAttribute("data-mq-optional", i >= min);
      var remove = child(row, "[data-mq-action=remove]");
      if (remove && !remove.dataset.mqDisabled) remove.disabled = rows.length <= min;
    });
    var add = child(repeat, "[data-mq-action=add]");
    if (add && !add.dataset.mqDisabled) add.disabled = rows.length >= max;
  }

  function initRepeat(repeat) {
    // Server-rendered rows may have gaps in their indices; new rows continue after the largest.
    var largest = -1, pattern = new RegExp("^" + repeat.dataset.mqRepeat.replace(/[-\[\]\\^$.*+?()|{}]/g, "\\$&") + "-(\\d+)-");
    rowsOf(repeat).forEach(function (row) {
      all(row, "[name]").forEach(function (c) {
        var m = pattern.exec(c.getAttribute("name"));
        if (m) largest = Math.max(largest, Number(m[1]));
      });
    });
    repeat.dataset.mqNext = String(largest + 1);
  }

  // -- geo-point ----------------------------------------------------------------------------

  function button(text) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "mq-button";
    b.textContent = text;
    return b;
  }

  function setupGeo(form, box) {
    if (box.dataset.mqGeoReady) return;
    box.dataset.mqGeoReady = "1";
    var lon = box.querySelector("[data-mq-geo-lon]"), lat = box.querySelector("[data-mq-geo-lat]");
    var tools = document.createElement("div"), status = document.createElement("p");
    tools.className = "mq-geo-tools";
    status.className = "mq-hint";
    status.setAttribute("aria-live", "polite");
    var marker = null, map = null;

    function set(x, y) {
      lon.value = x.toFixed(6);
      lat.value = y.toFixed(6);
      lon.dispatchEvent(new Event("input", { bubbles: true }));
      if (map) place();
    }
    function place() {
      var x = parseFloat(lon.value), y = parseFloat(lat.value);
      if (isNaN(x) || isNaN(y)) return;
      if (marker) marker.setLatLng([y, x]); else marker = window.L.marker([y, x]).addTo(map);
      map.setView([y, x], Math.max(map.getZoom(), 16));
    }

    if (navigator.geolocation) {
      var locate = button("使用我的位置");
      locate.addEventListener("click", function () {
        status.textContent = "正在定位…";
        navigator.geolocation.getCurrentPosition(function (pos) {
          set(pos.coords.longitude, pos.coords.latitude);
          status.textContent = "已定位，精度约 " + Math.round(pos.coords.accuracy) + " 米";
        }, function (err) {
          status.textContent = "无法获取位置（" + (err.code === 1 ? "未获授权" : "定位失败") + "），请手动填写或在地图上选择";
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
      tools.appendChild(locate);
    }
    var tiles = form.dataset.mqTileUrl;
    if (window.L && tiles) {
      var pick = button("在地图上选择");
      var holder = document.createElement("div");
      holder.className = "mq-map";
      holder.hidden = true;
      pick.addEventListener("click", function () {
        holder.hidden = !holder.hidden;
        if (holder.hidden || map) return;
        map = window.L.map(holder).setView([35, 104], 4);
        window.L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
        map.on("click", function (e) { set(e.latlng.lng, e.latlng.lat); });
        place();
      });
      lon.addEventListener("change", function () { if (map) place(); });
      lat.addEventListener("change", function () { if (map) place(); });
      tools.appendChild(pick);
      box.appendChild(tools);
      box.appendChild(holder);
    } else {
      box.appendChild(tools);
    }
    box.appendChild(status);
  }

  // -- files --------------------------------------------------------------------------------

  function checkFiles(input) {
    var max = Number(input.dataset.mqMaxBytes || 0);
    var accept = (input.getAttribute("accept") || "").split(",").filter(Boolean);
    var problem = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      var type = (file.type || "").toLowerCase();
      var okType = !accept.length || accept.some(function (a) {
        return a.slice(-2) === "/*" ? type.indexOf(a.slice(0, -1)) === 0 : type === a;
      });
      if (!okType) problem = "文件“" + file.name + "”的类型不支持";
      else if (max && file.size > max) problem = "文件“" + file.name + "”太大，不能超过 " + Math.round(max / 1048576 * 10) / 10 + " MB";
    });
    input.setCustomValidity(problem);
    if (problem && input.reportValidity) input.reportValidity();
  }

  // -- wiring -------------------------------------------------------------------------------

  function refresh(form) {
    all(form, "[data-mq-object]").forEach(applyConditions);  // document order: outer first
    applyRequired(form);
  }

  function setupForm(form) {
    if (form.dataset.mqReady) return;
    form.dataset.mqReady = "1";
    form.classList.add("mq-js");
    form.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-mq-action]");
      if (!b || !form.contains(b)) return;
      e.preventDefault();
      var repeat = b.closest("[data-mq-repeat]");
      if (b.dataset.mqAction === "add") addRow(form, repeat); else removeRow(repeat, b.closest("[data-mq-row]"));
      refresh(form);
    });
    form.addEventListener("input", function () { refresh(form); });
    form.addEventListener("change", function (e) {
      if (e.target.type === "file") checkFiles(e.target);
      refresh(form);
    });
    all(form, "[data-mq-repeat]").forEach(function (r) { initRepeat(r); updateRows(r); });
    all(form, "[data-mq-geo]").forEach(function (g) { setupGeo(form, g); });
    refresh(form);
  }

  function init(root) {
    all(root || document, "form[data-mq-form]").forEach(setupForm);
  }

  window.MinqingForms = { init: init, refresh: refresh, matches: matches, parseScalar: parseScalar };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
})();
