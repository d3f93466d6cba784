/* 主题搭建: edits a theme document (JSON) in the browser and saves it as a draft through the JSON endpoint.
   The field list edits forms.<name>.properties in place; the server checks the whole document and answers
   problems as JSON pointers, which are shown next to the field (or panel input) they point into.
   builder-panels.js adds the layer, workflow and category panels through MinqingBuilder.panels. */
(function () {
  "use strict";
  var root = document.getElementById("builder");
  if (!root) { return; }
  document.documentElement.classList.add("js");

  function readJSON(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  var data = root.dataset;
  var state = {
    doc: readJSON("theme-document"),
    revision: Number(data.revision),
    problems: readJSON("theme-problems") || [],
    form: "report",
    dirty: false,
    open: new Set()
  };
  var targets = [];      // [{pointer, box}] where problems can be shown
  var uid = 0;

  var TYPES = [["text", "单行文本"], ["textarea", "多行文本"], ["integer", "整数"], ["number", "小数"],
    ["date", "日期"], ["single", "单选"], ["multi", "多选"], ["yesno", "是/否"], ["idcard", "身份证号"],
    ["mobile", "手机号"], ["geo", "位置"], ["photo", "照片"], ["group", "分组"], ["repeat", "重复组"]];
  var TYPE_TITLES = {};
  TYPES.forEach(function (t) { TYPE_TITLES[t[0]] = t[1]; });
  TYPE_TITLES.other = "其他（保留原样）";
  var FORM_TITLES = { report: "上报表单", record: "登记表单", visit: "走访表单" };
  var CONDITION_SOURCES = ["single", "multi", "yesno", "text", "integer", "number"];
  /* The engine's messages name JSON Schema keywords; show them with the labels of the builder's inputs. */
  var KEYWORD_TITLES = { minLength: "最少字数", maxLength: "最多字数", minimum: "最小值", maximum: "最大值",
    minItems: "最少项数", maxItems: "最多项数", pattern: "格式", "default": "默认值", oneOf: "选项", "enum": "选项",
    required: "必填", title: "标题", properties: "字段" };

  function humanize(message) {
    return String(message).replace(/“([A-Za-z]+)”/g, function (all, word) {
      return KEYWORD_TITLES[word] ? "“" + KEYWORD_TITLES[word] + "”" : all;
    });
  }

  /* ---------- small DOM helpers ---------- */

  function h(tag, attrs, children) {
    var element = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === false || value === null || value === undefined) { return; }
      if (name === "text") { element.textContent = value; }
      else if (name.slice(0, 2) === "on") { element.addEventListener(name.slice(2), value); }
      else if (value === true) { element.setAttribute(name, ""); }
      else { element.setAttribute(name, value); }
    });
    (children || []).forEach(function (child) {
      if (child) { element.appendChild(typeof child === "string" ? document.createTextNode(child) : child); }
    });
    return element;
  }

  function nextId(prefix) { uid += 1; return prefix + "-" + uid; }

  /* A labelled control; `control` is an input/select/textarea element. */
  function labelled(text, control, hint) {
    if (!control.id) { control.id = nextId("b"); }
    return h("div", { "class": "field" }, [h("label", { "for": control.id, text: text }), control,
      hint ? h("small", { "class": "hint", text: hint }) : null]);
  }

  function input(value, onChange, attrs) {
    var element = h("input", Object.assign({ type: "text" }, attrs || {}));
    element.value = value === undefined || value === null ? "" : String(value);
    element.addEventListener("input", function () { onChange(element.value, element); changed(); });
    return element;
  }

  function select(options, value, onChange, attrs) {
    var element = h("select", attrs || {}, options.map(function (option) {
      return h("option", { value: option[0], text: option[1] });
    }));
    element.value = value === undefined || value === null ? "" : String(value);
    element.addEventListener("change", function () { onChange(element.value, element); changed(); });
    return element;
  }

  function checkbox(text, checked, onChange) {
    var box = h("input", { type: "checkbox", id: nextId("c") });
    box.checked = !!checked;
    box.addEventListener("change", function () { onChange(box.checked); changed(); });
    return h("label", { "class": "check", "for": box.id }, [box, " " + text]);
  }

  function numberOrUndefined(text, integer) {
    var trimmed = String(text).trim();
    if (trimmed === "") { return undefined; }
    var value = Number(trimmed);
    if (!isFinite(value)) { return trimmed; }   // kept as typed: the server says what is wrong
    return integer ? Math.trunc(value) === value ? value : trimmed : value;
  }

  function setOrDelete(object, key, value) {
    if (value === undefined || value === "") { delete object[key]; } else { object[key] = value; }
  }

  function clone(value) { return JSON.parse(JSON.stringify(value)); }

  /* ---------- JSON pointers ---------- */

  function escapeToken(token) { return String(token).replace(/~/g, "~0").replace(/\//g, "~1"); }
  function tokens(pointer) {
    return pointer ? pointer.split("/").slice(1).map(function (t) { return t.replace(/~1/g, "/").replace(/~0/g, "~"); }) : [];
  }
  function resolve(pointer) {
    var value = state.doc;
    tokens(pointer).forEach(function (token) { value = value === undefined || value === null ? undefined : value[token]; });
    return value;
  }

  /* ---------- the field model: schemas edited in place ---------- */

  function kindOf(schema, ui) {
    var type = schema.type;
    if (type === "object") { return schema.format === "geo-point" ? "geo" : "group"; }
    if (type === "array") {
      var items = schema.items || {};
      if (items.type === "object") { return "repeat"; }
      if (items.format === "attachment") { return "photo"; }
      return items.oneOf || items["enum"] ? "multi" : "other";
    }
    if (type === "boolean") { return "yesno"; }
    if (schema.oneOf || schema["enum"]) { return "single"; }
    if (type === "integer" || type === "number") { return type; }
    if (type === "string") {
      if (!schema.format) { return ui && ui["ui:widget"] === "textarea" ? "textarea" : "text"; }
      return { date: "date", "cn-id": "idcard", "cn-mobile": "mobile" }[schema.format] || "other";
    }
    return "other";
  }

  var DEFAULT_OPTIONS = [{ "const": "1", title: "选项一" }, { "const": "2", title: "选项二" }];

  function freshSchema(kind, old) {
    var keep = { title: old.title, description: old.description };
    var options = optionsOf(old);
    options = options.length ? options : clone(DEFAULT_OPTIONS);
    var schema = {
      text: { type: "string" }, textarea: { type: "string" }, integer: { type: "integer" },
      number: { type: "number" }, date: { type: "string", format: "date" },
      single: { type: "string", oneOf: options },
      multi: { type: "array", uniqueItems: true, items: { type: "string", oneOf: options } },
      yesno: { type: "boolean" }, idcard: { type: "string", format: "cn-id" },
      mobile: { type: "string", format: "cn-mobile" }, geo: { type: "object", format: "geo-point" },
      photo: { type: "array", maxItems: 6, items: { type: "string", format: "attachment",
        "x-attachment": { accept: ["image/jpeg", "image/png"], maxBytes: 10485760 } } },
      group: { type: "object", properties: {} },
      repeat: { type: "array", maxItems: 20, items: { type: "object", properties: {} } }
    }[kind];
    Object.keys(keep).forEach(function (key) { if (keep[key] !== undefined) { schema[key] = keep[key]; } });
    return schema;
  }

  function optionsOf(schema) {
    var target = schema.type === "array" ? schema.items || {} : schema;
    if (target.oneOf) { return target.oneOf.map(function (o) { return { "const": o["const"], title: o.title }; }); }
    return (target["enum"] || []).map(function (v) { return { "const": v, title: String(v) }; });
  }

  function setOptions(schema, options) {
    var target = schema.type === "array" ? schema.items : schema;
    delete target["enum"];
    target.oneOf = options;
  }

  /* "代码 名称" per line (tab, space, = or ：between); a line with one word gets the next free number. */
  function parseOptions(text, numeric) {
    var used = {}, options = [];
    var lines = text.split(/\r?\n/).map(function (l) { return l.trim(); }).filter(Boolean);
    lines.forEach(function (line) {
      var match = line.match(/^(\S+?)\s*[\t =：:]\s*(.+)$/) || line.match(/^(\S+)\s+(.+)$/);
      var code = match ? match[1] : null, title = match ? match[2].trim() : line;
      if (code !== null && numeric) { code = Number(code); if (!isFinite(code)) { code = null; title = line; } }
      options.push({ code: code, title: title });
      if (code !== null) { used[code] = true; }
    });
    var next = 1;
    return options.map(function (o) {
      if (o.code === null) {
        while (used[numeric ? next : String(next)]) { next += 1; }
        o.code = numeric ? next : String(next);
        used[o.code] = true;
      }
      return { "const": o.code, title: o.title };
    });
  }

  function optionsText(schema) {
    return optionsOf(schema).map(function (o) { return o["const"] + " " + o.title; }).join("\n");
  }

  /* An object level: the schema whose `properties` we list, its UI object, and where it is. */
  function level(schema, uiGetter, pointer) { return { schema: schema, ui: uiGetter, pointer: pointer }; }

  function formLevel(name) {
    var forms = state.doc.forms = state.doc.forms || {};
    forms[name] = forms[name] || { type: "object", properties: {} };
    forms[name].properties = forms[name].properties || {};
    return level(forms[name], function (create) {
      if (!state.doc.ui || !state.doc.ui[name]) {
        if (!create) { return {}; }
        state.doc.ui = state.doc.ui || {};
        state.doc.ui[name] = {};
      }
      return state.doc.ui[name];
    }, "/forms/" + name);
  }

  function childLevel(parent, name) {
    var schema = parent.schema.properties[name];
    var kind = kindOf(schema, {});
    var object = kind === "repeat" ? schema.items : schema;
    object.properties = object.properties || {};
    var pointer = parent.pointer + "/properties/" + escapeToken(name) + (kind === "repeat" ? "/items" : "");
    return level(object, function (create) {
      var ui = parent.ui(create);
      if (!ui[name]) { if (!create) { return {}; } ui[name] = {}; }
      if (kind !== "repeat") { return ui[name]; }
      if (!ui[name].items) { if (!create) { return {}; } ui[name].items = {}; }
      return ui[name].items;
    }, pointer);
  }

  function uiOf(lvl, name) { return lvl.ui(false)[name] || {}; }
  function setUi(lvl, name, key, value) {
    if (value === undefined) {
      var existing = lvl.ui(false)[name];
      if (existing) { delete existing[key]; }
      return;
    }
    var ui = lvl.ui(true);
    ui[name] = ui[name] || {};
    ui[name][key] = value;
  }

  /* Simple conditions the builder writes: show `target` when `source` is `value`. */
  function simpleBlock(block) {
    var test = block["if"], then = block.then;
    if (!test || !then || block["else"] || Object.keys(block).length !== 2) { return null; }
    var sources = Object.keys(test.properties || {});
    if (sources.length !== 1 || JSON.stringify(test.required) !== JSON.stringify(sources)) { return null; }
    var rule = test.properties[sources[0]], value;
    if (Object.keys(rule).length !== 1) { return null; }
    if ("const" in rule) { value = rule["const"]; }
    else if (rule.contains && Object.keys(rule.contains).length === 1 && "const" in rule.contains) { value = rule.contains["const"]; }
    else { return null; }
    var required = then.required || [], props = Object.keys(then.properties || {});
    if (required.length === 1 && props.length === 0) { return { source: sources[0], value: value, target: required[0], required: true }; }
    if (required.length === 0 && props.length === 1 && Object.keys(then.properties[props[0]]).length === 0) {
      return { source: sources[0], value: value, target: props[0], required: false };
    }
    return null;
  }

  function conditionOf(schema, name) {
    var found = null;
    (schema.allOf || []).forEach(function (block) {
      var simple = simpleBlock(block);
      if (simple && simple.target === name) { found = simple; }
    });
    return found;
  }

  function isRequired(schema, name) {
    var condition = conditionOf(schema, name);
    return condition ? condition.required : (schema.required || []).indexOf(name) >= 0;
  }

  /* The report page always requires the report form's own place field (workflows.intake.report_schema: a case
     needs a point on the map), so the list says 必填 as the preview does. */
  function alwaysRequired(lvl, name) {
    var schema = lvl.schema.properties[name] || {};
    return lvl.pointer === "/forms/report" && schema.format === "geo-point";
  }

  function writeCondition(schema, name, condition, required) {
    schema.allOf = (schema.allOf || []).filter(function (block) {
      var simple = simpleBlock(block);
      return !(simple && simple.target === name);
    });
    schema.required = (schema.required || []).filter(function (n) { return n !== name; });
    if (condition) {
      var source = schema.properties[condition.source];
      var rule = source && source.type === "array" ? { contains: { "const": condition.value } } : { "const": condition.value };
      var test = { properties: {}, required: [condition.source] };
      test.properties[condition.source] = rule;
      var then = {};
      if (required) { then.required = [name]; } else { then.properties = {}; then.properties[name] = {}; }
      schema.allOf.push({ "if": test, then: then });
    } else if (required) {
      schema.required.push(name);
    }
    tidy(schema);
  }

  function tidy(schema) {
    if (schema.required && !schema.required.length) { delete schema.required; }
    if (schema.allOf && !schema.allOf.length) { delete schema.allOf; }
  }

  function uniqueName(schema, base) {
    var props = schema.properties || {};
    var stem = /^[A-Za-z][A-Za-z0-9_]{0,50}$/.test(base) ? base.toLowerCase() : "field";
    if (stem !== "field" && !props[stem]) { return stem; }
    var n = 1;
    while (props[stem + "_" + n]) { n += 1; }
    return stem + "_" + n;
  }

  function renameInBlock(block, from, to) {
    ["if", "then", "else"].forEach(function (part) {
      var branch = block[part];
      if (!branch) { return; }
      if (branch.properties && from in branch.properties) { branch.properties = renamedKeys(branch.properties, from, to); }
      if (branch.required) { branch.required = branch.required.map(function (n) { return n === from ? to : n; }); }
    });
  }

  function renamedKeys(object, from, to) {
    var out = {};
    Object.keys(object).forEach(function (key) { out[key === from ? to : key] = object[key]; });
    return out;
  }

  function renameField(lvl, from, to) {
    var schema = lvl.schema;
    schema.properties = renamedKeys(schema.properties, from, to);
    if (schema.required) { schema.required = schema.required.map(function (n) { return n === from ? to : n; }); }
    (schema.allOf || []).forEach(function (block) { renameInBlock(block, from, to); });
    if (schema["if"]) { renameInBlock(schema, from, to); }
    var ui = lvl.ui(false);
    if (ui[from]) { ui[to] = ui[from]; delete ui[from]; }
    if (ui["ui:order"]) { ui["ui:order"] = ui["ui:order"].map(function (n) { return n === from ? to : n; }); }
  }

  function removeField(lvl, name) {
    var schema = lvl.schema;
    delete schema.properties[name];
    schema.required = (schema.required || []).filter(function (n) { return n !== name; });
    schema.allOf = (schema.allOf || []).filter(function (block) {
      var simple = simpleBlock(block);
      return !(simple && (simple.target === name || simple.source === name));
    });
    tidy(schema);
    var ui = lvl.ui(false);
    delete ui[name];
    if (ui["ui:order"]) { ui["ui:order"] = ui["ui:order"].filter(function (n) { return n !== name; }); }
  }

  function orderedNames(lvl) {
    var names = Object.keys(lvl.schema.properties);
    var order = (lvl.ui(false)["ui:order"] || []).filter(function (n) { return names.indexOf(n) >= 0; });
    return order.concat(names.filter(function (n) { return order.indexOf(n) < 0; }));
  }

  /* Reordering rewrites `properties` in the new order and records it in ui:order as well: a database may
     store a JSON object's keys in its own order (PostgreSQL's JSONB does), an array it keeps as it is. */
  function reorder(lvl, names) {
    var props = {};
    names.forEach(function (n) { props[n] = lvl.schema.properties[n]; });
    lvl.schema.properties = props;
    lvl.ui(true)["ui:order"] = names.slice();
  }

  function move(lvl, name, delta) {
    var names = orderedNames(lvl), at = names.indexOf(name), to = at + delta;
    if (to < 0 || to >= names.length) { return false; }
    names.splice(at, 1);
    names.splice(to, 0, name);
    reorder(lvl, names);
    return true;
  }

  function addField(lvl) {
    var name = uniqueName(lvl.schema, "field");
    var schema = { type: "string", title: "新字段" };
    var names = orderedNames(lvl);
    lvl.schema.properties[name] = schema;
    reorder(lvl, names.concat([name]));
    state.open.add(schema);
    return name;
  }

  /* ---------- rendering the field list ---------- */

  function renderFields() {
    var panel = document.getElementById("panel-fields");
    var list = panel.querySelector(".field-tree");
    var lvl = formLevel(state.form);
    list.replaceChildren(fieldList(lvl, 0));
    placeProblems();
  }

  function fieldList(lvl, depth) {
    var names = orderedNames(lvl);
    var ol = h("ol", { "class": "fields", "data-pointer": lvl.pointer });
    names.forEach(function (name, index) { ol.appendChild(fieldCard(lvl, name, index, names.length, depth)); });
    var add = h("button", { type: "button", "class": "secondary add-field", text: depth ? "＋ 在此组内添加字段" : "＋ 添加字段",
      onclick: function () {
        var name = addField(lvl);
        changed();
        renderFields();
        var card = document.querySelector("[data-pointer='" + lvl.pointer + "/properties/" + name + "'] input");
        if (card) { card.focus(); card.select(); }
      } });
    return h("div", { "class": "field-list" }, [names.length ? ol : h("p", { "class": "muted", text: "还没有字段。" }), add]);
  }

  function fieldCard(lvl, name, index, count, depth) {
    var schema = lvl.schema.properties[name];
    var ui = uiOf(lvl, name);
    var kind = kindOf(schema, ui);
    var pointer = lvl.pointer + "/properties/" + escapeToken(name);
    var problems = h("ul", { "class": "problems", role: "alert" });
    targets.push({ pointer: pointer, box: problems });
    var title = h("strong", { "class": "field-title", text: schema.title || name });
    var rerender = function () { renderFields(); };
    var head = h("div", { "class": "field-head" }, [
      h("span", { "class": "drag", title: "拖动以调整顺序", "aria-hidden": "true", text: "⠿" }),
      title, h("span", { "class": "tag", text: TYPE_TITLES[kind] }),
      isRequired(lvl.schema, name) || alwaysRequired(lvl, name) ? h("span", { "class": "tag red", text: "必填",
        title: alwaysRequired(lvl, name) ? "上报时总是必填：事件需要地图上的位置" : "" }) : null,
      conditionOf(lvl.schema, name) ? h("span", { "class": "tag yellow", text: "有条件" }) : null,
      h("span", { "class": "spacer" }),
      h("span", { "class": "field-actions" }, [
      h("button", { type: "button", "class": "icon move-up", "aria-label": "上移“" + (schema.title || name) + "”",
        text: "上移", disabled: index === 0, onclick: function () { if (move(lvl, name, -1)) { changed(); rerender(); focusMoved(pointer, ".move-up"); } } }),
      h("button", { type: "button", "class": "icon move-down", "aria-label": "下移“" + (schema.title || name) + "”",
        text: "下移", disabled: index === count - 1, onclick: function () { if (move(lvl, name, 1)) { changed(); rerender(); focusMoved(pointer, ".move-down"); } } }),
      h("button", { type: "button", "class": "icon danger remove", "aria-label": "删除“" + (schema.title || name) + "”", text: "删除",
        onclick: function () {
          if (!window.confirm("删除字段“" + (schema.title || name) + "”？")) { return; }
          removeField(lvl, name); changed(); rerender();
        } })
      ])
    ]);
    var settings = h("details", { "class": "field-settings", open: state.open.has(schema) }, [
      h("summary", { text: "设置" })].concat(fieldSettings(lvl, name, schema, kind, title)));
    settings.addEventListener("toggle", function () {
      if (settings.open) { state.open.add(schema); } else { state.open.delete(schema); }
    });
    var card = h("li", { "class": "field-card depth-" + depth, draggable: "true", "data-pointer": pointer, "data-name": name },
      [head, problems, settings]);
    if (kind === "group" || kind === "repeat") {
      card.appendChild(h("div", { "class": "children" }, [fieldList(childLevel(lvl, name), depth + 1)]));
    }
    dragAndDrop(card, lvl, name);
    return card;
  }

  function focusMoved(oldPointer, selector) {
    // The card keeps its pointer (the name did not change): give the focus back to the button pressed.
    var card = document.querySelector("[data-pointer='" + oldPointer + "']");
    var button = card && card.querySelector(":scope > .field-head .field-actions " + selector);
    if (button && !button.disabled) { button.focus(); } else if (card) { card.querySelector(".field-head button").focus(); }
  }

  function dragAndDrop(card, lvl, name) {
    card.addEventListener("dragstart", function (event) {
      event.stopPropagation();
      event.dataTransfer.setData("text/plain", lvl.pointer + "\n" + name);
      event.dataTransfer.effectAllowed = "move";
      card.classList.add("dragging");
    });
    card.addEventListener("dragend", function () { card.classList.remove("dragging"); });
    card.addEventListener("dragover", function (event) { event.preventDefault(); card.classList.add("drop-target"); });
    card.addEventListener("dragleave", function () { card.classList.remove("drop-target"); });
    card.addEventListener("drop", function (event) {
      event.preventDefault();
      event.stopPropagation();
      card.classList.remove("drop-target");
      var parts = (event.dataTransfer.getData("text/plain") || "").split("\n");
      if (parts[0] !== lvl.pointer || parts[1] === name) { return; }   // only within one list
      var names = orderedNames(lvl);
      names.splice(names.indexOf(parts[1]), 1);
      names.splice(names.indexOf(name), 0, parts[1]);
      reorder(lvl, names);
      changed();
      renderFields();
    });
  }

  function fieldSettings(lvl, name, schema, kind, titleElement) {
    var items = [];
    items.push(labelled("标题", input(schema.title, function (value) {
      schema.title = value;
      titleElement.textContent = value || name;
    }, { "class": "field-label-input", maxlength: 100 })));
    if (kind !== "other") {
      items.push(labelled("类型", select(TYPES, kind, function (value, element) {
        var children = Object.keys((schema.items || schema).properties || {}).length;
        if (children && !window.confirm("改变类型会删除这个组里的 " + children + " 个字段，确定吗？")) {
          element.value = kind;
          return;
        }
        var fresh = freshSchema(value, schema);
        delete lvl.ui(false)[name];   // the old type's widget settings do not suit the new one
        Object.keys(schema).forEach(function (key) { delete schema[key]; });
        Object.assign(schema, fresh);
        setUi(lvl, name, "ui:widget", value === "textarea" ? "textarea" : value === "yesno" ? "radio" : undefined);
        setUi(lvl, name, "ui:capture", value === "photo" ? "environment" : undefined);
        renderFields();
      }, { "class": "field-type" })));
    }
    items.push(labelled("说明（帮助文字）", input(schema.description, function (value) { setOrDelete(schema, "description", value); })));
    if (alwaysRequired(lvl, name)) {
      items.push(h("p", { "class": "muted always-required", text: "必填：上报时总是需要位置（事件要在地图上定位）" }));
    } else {
      items.push(checkbox("必填", isRequired(lvl.schema, name), function (checked) {
        writeCondition(lvl.schema, name, conditionOf(lvl.schema, name), checked);
      }));
    }
    items = items.concat(limitSettings(schema, kind));
    if (kind === "single" || kind === "multi") { items.push(optionSettings(schema)); }
    if (["text", "textarea", "integer", "number", "date", "single", "yesno", "idcard", "mobile"].indexOf(kind) >= 0) {
      items.push(defaultSetting(schema, kind));
    }
    items.push(conditionSetting(lvl, name));
    items.push(labelled("字段标识（英文，保存后不要再改）", nameInput(lvl, name),
      "字母开头，只含字母、数字和下划线；记录里按它存值"));
    return items;
  }

  function nameInput(lvl, name) {
    var element = h("input", { type: "text", "class": "field-name", value: name, pattern: "[A-Za-z][A-Za-z0-9_]{0,63}" });
    element.addEventListener("change", function () {
      var to = element.value.trim();
      if (to === name) { return; }
      if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(to) || lvl.schema.properties[to]) {
        element.setCustomValidity(lvl.schema.properties[to] ? "已有同名字段" : "字母开头，只含字母、数字和下划线");
        element.reportValidity();
        return;
      }
      element.setCustomValidity("");
      renameField(lvl, name, to);
      changed();
      renderFields();
    });
    return element;
  }

  function numberSetting(text, schema, key, integer) {
    return labelled(text, input(schema[key], function (value) { setOrDelete(schema, key, numberOrUndefined(value, integer)); },
      { type: "number", inputmode: integer ? "numeric" : "decimal", step: integer ? "1" : "any", "class": "limit-" + key }));
  }

  function limitSettings(schema, kind) {
    var out = [];
    if (kind === "text" || kind === "textarea") {
      out.push(h("div", { "class": "pair" }, [numberSetting("最少字数", schema, "minLength", true),
        numberSetting("最多字数", schema, "maxLength", true)]));
      out.push(labelled("格式（正则表达式，可不填）", input(schema.pattern, function (value) { setOrDelete(schema, "pattern", value); },
        { "class": "limit-pattern" }), "例如 ^[0-9]{6}$ 表示6位数字"));
      out.push(labelled("格式不符时的提示", input((schema["x-messages"] || {}).pattern, function (value) {
        var messages = schema["x-messages"] || {};
        setOrDelete(messages, "pattern", value);
        if (Object.keys(messages).length) { schema["x-messages"] = messages; } else { delete schema["x-messages"]; }
      }, { "class": "limit-pattern-message" }), "例如：请输入6位邮政编码"));
    } else if (kind === "integer" || kind === "number") {
      out.push(h("div", { "class": "pair" }, [numberSetting("最小值", schema, "minimum", false),
        numberSetting("最大值", schema, "maximum", false)]));
    } else if (kind === "multi" || kind === "photo" || kind === "repeat") {
      var what = kind === "photo" ? "张数" : kind === "repeat" ? "项数" : "选择项数";
      if (schema.type === "array") {
        out.push(h("div", { "class": "pair" }, [numberSetting("最少" + what, schema, "minItems", true),
          numberSetting("最多" + what, schema, "maxItems", true)]));
      }
    }
    return out;
  }

  function optionSettings(schema) {
    var area = h("textarea", { rows: 5, "class": "options-input" });
    area.value = optionsText(schema);
    var numeric = (schema.type === "array" ? schema.items.type : schema.type) !== "string";
    area.addEventListener("change", function () { setOptions(schema, parseOptions(area.value, numeric)); changed(); renderFields(); });
    return labelled("选项（每行一个：代码 名称；可直接粘贴整列）", area, "只写名称时自动编号，例如“1 是”“2 否”");
  }

  function defaultSetting(schema, kind) {
    var onChange = function (value) {
      if (kind === "integer" || kind === "number") { setOrDelete(schema, "default", numberOrUndefined(value, kind === "integer")); }
      else if (kind === "yesno") { setOrDelete(schema, "default", value === "" ? undefined : value === "true"); }
      else if (kind === "single") {
        var option = optionsOf(schema).filter(function (o) { return String(o["const"]) === value; })[0];
        setOrDelete(schema, "default", option ? option["const"] : undefined);
      } else { setOrDelete(schema, "default", value); }
    };
    var current = schema["default"];
    if (kind === "yesno") { return labelled("默认值", select([["", "（无）"], ["true", "是"], ["false", "否"]], current === undefined ? "" : String(current), onChange)); }
    if (kind === "single") {
      return labelled("默认值", select([["", "（无）"]].concat(optionsOf(schema).map(function (o) { return [String(o["const"]), o.title]; })),
        current === undefined ? "" : String(current), onChange));
    }
    var type = kind === "date" ? "date" : kind === "integer" || kind === "number" ? "number" : "text";
    return labelled("默认值", input(current, onChange, { type: type, step: kind === "number" ? "any" : false, "class": "default-input" }));
  }

  function conditionSetting(lvl, name) {
    var condition = conditionOf(lvl.schema, name);
    var sources = orderedNames(lvl).filter(function (other) {
      var s = lvl.schema.properties[other];
      return other !== name && CONDITION_SOURCES.indexOf(kindOf(s, uiOf(lvl, other))) >= 0;
    });
    var box = h("fieldset", { "class": "condition" }, [h("legend", { text: "显示条件" })]);
    var sourceSelect = select([["", "始终显示"]].concat(sources.map(function (other) {
      return [other, "当“" + (lvl.schema.properties[other].title || other) + "”为…时显示"];
    })), condition ? condition.source : "", function (value) {
      var required = isRequired(lvl.schema, name);
      writeCondition(lvl.schema, name, value ? { source: value, value: firstValue(lvl.schema.properties[value]) } : null, required);
      renderFields();
    });
    sourceSelect.classList.add("condition-source");
    box.appendChild(labelled("何时显示", sourceSelect));
    if (condition && lvl.schema.properties[condition.source]) {
      box.appendChild(labelled("取值", valueControl(lvl.schema.properties[condition.source], uiOf(lvl, condition.source),
        condition.value, function (value) {
          writeCondition(lvl.schema, name, { source: condition.source, value: value }, isRequired(lvl.schema, name));
        })));
    }
    return box;
  }

  function firstValue(schema) {
    var kind = kindOf(schema, {});
    if (kind === "yesno") { return true; }
    var options = optionsOf(schema);
    if (options.length) { return options[0]["const"]; }
    return kind === "integer" || kind === "number" ? 0 : "";
  }

  function valueControl(schema, ui, value, onChange) {
    var kind = kindOf(schema, ui);
    var control;
    if (kind === "yesno") {
      control = select([["true", "是"], ["false", "否"]], String(value), function (v) { onChange(v === "true"); });
    } else if (kind === "single" || kind === "multi") {
      var options = optionsOf(schema);
      control = select(options.map(function (o) { return [String(o["const"]), o.title]; }), String(value), function (v) {
        onChange(options.filter(function (o) { return String(o["const"]) === v; })[0]["const"]);
      });
    } else if (kind === "integer" || kind === "number") {
      control = input(value, function (v) { onChange(numberOrUndefined(v, kind === "integer")); }, { type: "number" });
    } else {
      control = input(value, function (v) { onChange(v); });
    }
    control.classList.add("condition-value");
    return control;
  }

  /* ---------- problems next to their fields ---------- */

  /* Problems of the UI schema and of conditions/required lists point elsewhere than the field's schema:
     turn them into the pointer of the field they are about. */
  function fieldPointer(path) {
    var ui = path.match(/^\/ui\/([a-z]+)(\/.*)?$/);
    if (ui) {
      var out = "/forms/" + ui[1], object = resolve(out);
      tokens(ui[2] || "").forEach(function (token) {
        if (token.slice(0, 3) === "ui:" || !object) { return; }
        if (token === "items") { out += "/items"; object = object.items; return; }
        out += "/properties/" + escapeToken(token);
        object = (object.properties || {})[token];
      });
      return out;
    }
    var parts = tokens(path), prefix = "";
    for (var i = 0; i < parts.length; i += 1) {
      var object = resolve(prefix);
      if ((parts[i] === "allOf" || parts[i] === "required") && object && object.type === "object" && i + 1 < parts.length) {
        var named = parts[i] === "required" ? (object.required || [])[parts[i + 1]] :
          (simpleBlock((object.allOf || [])[parts[i + 1]] || {}) || {}).target;
        if (named) { return prefix + "/properties/" + escapeToken(named); }
      }
      prefix += "/" + escapeToken(parts[i]);
    }
    return path;
  }

  function placeProblems() {
    targets = targets.filter(function (t) { return document.body.contains(t.box); });
    targets.forEach(function (t) { t.box.replaceChildren(); t.box.closest("[data-pointer]") && t.box.closest("[data-pointer]").classList.remove("has-problem"); });
    var unplaced = [];
    state.problems.forEach(function (problem) {
      var pointer = fieldPointer(problem.path || "");
      var best = null;
      targets.forEach(function (t) {
        if ((pointer === t.pointer || pointer.indexOf(t.pointer + "/") === 0 || (t.exact === false && pointer.indexOf(t.pointer) === 0)) &&
            (!best || t.pointer.length > best.pointer.length)) { best = t; }
      });
      if (best) {
        best.box.appendChild(h("li", { text: humanize(problem.message) }));
        var holder = best.box.closest("[data-pointer]");
        if (holder) { holder.classList.add("has-problem"); }
        var settings = holder && holder.querySelector(":scope > details.field-settings");
        if (settings) { settings.open = true; }
      } else {
        unplaced.push(problem);
      }
    });
    renderSummary(unplaced);
  }

  function renderSummary(unplaced) {
    var summary = document.getElementById("problem-summary");
    var count = state.problems.length;
    summary.hidden = count === 0;
    summary.replaceChildren();
    if (!count) { return; }
    summary.appendChild(h("p", { text: "还有 " + count + " 个问题，改正后才能发布（问题显示在对应字段旁）：" }));
    var list = h("ul");
    state.problems.forEach(function (problem) {
      var here = unplaced.indexOf(problem) < 0;
      list.appendChild(h("li", {}, [here ? h("a", { href: "#", text: humanize(problem.message), onclick: function (event) {
        event.preventDefault();
        showProblem(problem);
      } }) : humanize(problem.message) + (problem.path ? "（" + problem.path + "）" : "")]));
    });
    summary.appendChild(list);
  }

  function showProblem(problem) {
    var pointer = fieldPointer(problem.path || "");
    if (pointer.indexOf("/forms/") === 0) {
      var name = tokens(pointer)[1];
      if (name !== state.form) { state.form = name; syncFormTabs(); renderFields(); }
    }
    var found = targets.filter(function (t) { return t.box.children.length && (pointer === t.pointer || pointer.indexOf(t.pointer + "/") === 0); })
      .sort(function (a, b) { return b.pointer.length - a.pointer.length; })[0];
    if (found) {
      var panel = found.box.closest("details.panel-section");
      if (panel) { panel.open = true; }
      found.box.scrollIntoView({ block: "center" });
      var focusable = found.box.closest("[data-pointer]").querySelector("input, select, textarea");
      if (focusable) { focusable.focus({ preventScroll: true }); }
    }
  }

  /* ---------- saving, publishing, preview ---------- */

  function status(text, kind) {
    var element = document.getElementById("save-status");
    element.textContent = text;
    element.className = "status " + (kind || "");
  }

  function changed() { state.dirty = true; status("有未保存的修改"); }

  function request(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": data.csrf },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return { message: "服务器返回了无法识别的内容（" + response.status + "）" }; })
        .then(function (answer) { answer.status = response.status; return answer; });
    });
  }

  function cleaned() {
    var doc = clone(state.doc);
    if (doc.ui) {
      Object.keys(doc.ui).forEach(function (name) { if (!doc.forms[name] || !Object.keys(prune(doc.ui[name])).length) { delete doc.ui[name]; } });
      if (!Object.keys(doc.ui).length) { delete doc.ui; }
    }
    return doc;
  }

  function prune(ui) {
    Object.keys(ui).forEach(function (key) {
      if (ui[key] && typeof ui[key] === "object" && !Array.isArray(ui[key])) {
        prune(ui[key]);
        if (!Object.keys(ui[key]).length) { delete ui[key]; }
      }
    });
    return ui;
  }

  function save() {
    status("正在保存…");
    return request(data.saveUrl, { document: cleaned(), revision: state.revision }).then(function (answer) {
      if (answer.status !== 200) {
        status(answer.message || "保存失败", "error");
        return Promise.reject(answer);
      }
      state.revision = answer.revision;
      state.problems = answer.problems || [];
      state.dirty = false;
      status(state.problems.length ? "已保存草稿，还有 " + state.problems.length + " 个问题" : "已保存草稿，检查通过，可以发布",
        state.problems.length ? "warning" : "ok");
      placeProblems();
      refreshPreview();
      builder.panels.forEach(function (panel) { if (panel.saved) { panel.saved(answer); } });
      return answer;
    });
  }

  function publish() {
    save().then(function () {
      if (state.problems.length) {
        status("还有 " + state.problems.length + " 个问题，改正后才能发布", "error");
        document.getElementById("problem-summary").scrollIntoView({ block: "start" });
        return;
      }
      if (!window.confirm("发布后立即生效：地图、表单和流程都将使用新版本。确定发布？")) { return; }
      status("正在发布…");
      request(data.publishUrl, {}).then(function (answer) {
        if (answer.status !== 200) {
          state.problems = answer.problems || state.problems;
          placeProblems();
          status(answer.message || "发布失败", "error");
          return;
        }
        status("已发布第 " + answer.version + " 版，已立即生效", "ok");
        var link = document.getElementById("versions-link");
        if (link) { link.hidden = false; }
      });
    }).catch(function () { /* status says why */ });
  }

  function refreshPreview() {
    var frame = document.getElementById("preview-frame");
    if (frame) { frame.src = data.previewUrl + "?form=" + state.form + "&t=" + Date.now(); }
  }

  function syncFormTabs() {
    document.querySelectorAll("#form-tabs button").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.form === state.form));
    });
  }

  function formTabs() {
    var tabs = document.getElementById("form-tabs");
    Object.keys(FORM_TITLES).forEach(function (name) {
      tabs.appendChild(h("button", { type: "button", "class": "tab", "data-form": name, text: FORM_TITLES[name],
        onclick: function () {
          if (name !== "report" && !(state.doc.forms || {})[name] &&
              !window.confirm("本主题还没有" + FORM_TITLES[name] + "，现在添加？")) { return; }
          state.form = name;
          syncFormTabs();
          renderFields();
          refreshPreview();
        } }));
    });
    syncFormTabs();
  }

  function basicPanel() {
    var box = document.getElementById("basic-fields");
    var doc = state.doc;
    [["title", "主题名称", "input"], ["description", "简介", "input"], ["guide", "业务场景指引（谁经手、谁使用、谁管理、谁负责）", "textarea"]]
      .forEach(function (spec) {
        var pointer = "/" + spec[0];
        var control = spec[2] === "textarea" ? h("textarea", { rows: 3 }) : h("input", { type: "text" });
        control.value = doc[spec[0]] || "";
        control.name = spec[0];
        control.addEventListener("input", function () { setOrDelete(doc, spec[0], control.value); changed(); });
        var problems = h("ul", { "class": "problems", role: "alert" });
        var wrap = labelled(spec[1], control);
        wrap.setAttribute("data-pointer", pointer);
        wrap.appendChild(problems);
        box.appendChild(wrap);
        targets.push({ pointer: pointer, box: problems });
      });
  }

  var builder = window.MinqingBuilder = {
    state: state, h: h, labelled: labelled, input: input, select: select, checkbox: checkbox, changed: changed,
    clone: clone, numberOrUndefined: numberOrUndefined, setOrDelete: setOrDelete, panels: [],
    /* A panel registers where its problems go: pointer prefix → list element. */
    target: function (pointer, box) { targets.push({ pointer: pointer, box: box }); },
    placeProblems: placeProblems
  };

  document.addEventListener("DOMContentLoaded", function () {
    basicPanel();
    formTabs();
    builder.panels.forEach(function (panel) { panel.render(); });
    renderFields();
    document.getElementById("save-draft").addEventListener("click", function () { save().catch(function () {}); });
    document.getElementById("publish").addEventListener("click", publish);
    window.addEventListener("beforeunload", function (event) { if (state.dirty) { event.preventDefault(); event.returnValue = ""; } });
    status(state.problems.length ? "草稿还有 " + state.problems.length + " 个问题" : "草稿已保存", state.problems.length ? "warning" : "");
  });
}());
