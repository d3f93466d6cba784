/* 主题搭建: the map layer, workflow and category panels of the editor (builder.js holds the document). */
(function () {
  "use strict";
  var B = window.MinqingBuilder;
  if (!B) { return; }
  var h = B.h, state = B.state;

  function readJSON(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  var ROLE_TITLES = { admin: "系统管理员", operator: "指挥中心/分中心/指挥所", department_staff: "职能部门人员",
    grid_worker: "网格员", leader: "领导", citizen: "群众" };
  var URGENCIES = [["normal", "一般"], ["urgent", "紧急"], ["critical", "特急"]];
  var ICONS = [["place", "地点"], ["home", "房屋"], ["storefront", "商铺摊位"], ["warning", "隐患"],
    ["water_drop", "水务"], ["local_fire_department", "消防"], ["construction", "施工"], ["park", "园林绿地"],
    ["directions_car", "交通"], ["school", "学校"], ["fact_check", "巡查"], ["campaign", "事件"],
    ["inventory", "台账"], ["diversity_3", "走访"]];

  function problemBox(pointer) {
    var box = h("ul", { "class": "problems", role: "alert" });
    B.target(pointer, box);
    return box;
  }

  function withProblems(pointer, element) {
    element.setAttribute("data-pointer", pointer);
    element.appendChild(problemBox(pointer));
    return element;
  }

  /* ---------- 图层 ---------- */

  var layerMap = null, sample = null;

  function layerPanel() {
    var box = document.getElementById("layer-fields");
    var doc = state.doc;
    doc.layer = doc.layer || { geometry: "point" };
    var layer = doc.layer;
    layer.style = layer.style || {};
    box.replaceChildren();
    box.appendChild(withProblems("/layer/geometry", B.labelled("图形类型", B.select([["point", "点"], ["line", "线"], ["polygon", "面"]],
      layer.geometry, function (value) { layer.geometry = value; drawSample(); }))));
    var colour = h("input", { type: "color", value: layer.style.color || doc.colour || "#1565c0", "class": "layer-colour" });
    colour.addEventListener("input", function () {
      doc.colour = colour.value;
      layer.style.color = colour.value;
      if (layer.geometry === "polygon") { layer.style.fillColor = colour.value; }
      B.changed();
      drawSample();
    });
    box.appendChild(withProblems("/layer/style", B.labelled("颜色", colour)));
    var icons = ICONS.slice();
    if (doc.icon && !icons.some(function (i) { return i[0] === doc.icon; })) { icons.unshift([doc.icon, doc.icon]); }
    box.appendChild(withProblems("/icon", B.labelled("图标", B.select([["", "（无）"]].concat(icons), doc.icon || "", function (value) {
      B.setOrDelete(doc, "icon", value);
    }))));
    var roles = h("fieldset", { "class": "roles" }, [h("legend", { text: "哪些角色能看到这个图层" })]);
    var visible = layer.visible_to || ["admin", "operator", "department_staff", "grid_worker", "leader"];
    Object.keys(ROLE_TITLES).forEach(function (role) {
      roles.appendChild(B.checkbox(ROLE_TITLES[role], visible.indexOf(role) >= 0, function (checked) {
        var current = (layer.visible_to || visible).filter(function (r) { return r !== role; });
        if (checked) { current.push(role); }
        layer.visible_to = Object.keys(ROLE_TITLES).filter(function (r) { return current.indexOf(r) >= 0; });
      }));
    });
    box.appendChild(withProblems("/layer/visible_to", roles));
    box.appendChild(h("p", { "class": "hint", text: "系统管理员总能看到全部图层；勾选“群众”后图层上的记录对所有人公开。" }));
    drawSample();
  }

  function drawSample() {
    var element = document.getElementById("layer-map");
    if (!element || !window.L) { return; }
    var centre = element.dataset.centre.split(",").map(Number);
    if (!layerMap) {
      layerMap = L.map(element, { zoomControl: false, attributionControl: false }).setView([centre[1], centre[0]], 13);
      fetch(element.dataset.regionsUrl, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (outlines) {
          if (outlines) { L.geoJSON(outlines, { interactive: false, style: { color: "#90a4ae", weight: 1, fill: false } }).addTo(layerMap); }
        });
    }
    if (sample) { layerMap.removeLayer(sample); }
    var layer = state.doc.layer, style = Object.assign({ color: state.doc.colour || "#1565c0" }, layer.style || {});
    var x = centre[0], y = centre[1], d = 0.01;
    if (layer.geometry === "line") {
      sample = L.polyline([[y - d, x - 2 * d], [y + d / 2, x], [y - d / 2, x + 2 * d]], Object.assign({ weight: 4 }, style));
    } else if (layer.geometry === "polygon") {
      sample = L.polygon([[y - d, x - 2 * d], [y + d, x - d], [y + d, x + 2 * d], [y - d, x + d]],
        Object.assign({ weight: 2, fillOpacity: 0.3, fillColor: style.color }, style));
    } else {
      sample = L.layerGroup([[y, x], [y + d, x - d], [y - d / 2, x + 1.5 * d]].map(function (p) {
        return L.circleMarker(p, { radius: style.radius || 6, color: style.color, weight: 1, fillOpacity: 0.7 });
      }));
    }
    sample.addTo(layerMap);
    element.dataset.sampleGeometry = layer.geometry;
  }

  /* ---------- 流程 ---------- */

  var templates = readJSON("workflow-templates") || [];
  var editing = typeof state.doc.workflow === "object" && state.doc.workflow ? state.doc.workflow : readJSON("workflow-editing");
  var inlineKey = editing && editing.key;

  function templateOf(key) { return templates.filter(function (t) { return t.key === key; })[0]; }

  /* The first edit turns a template key into an inline copy the theme owns. */
  function inline() {
    if (typeof state.doc.workflow !== "object") { state.doc.workflow = editing; }
    return state.doc.workflow;
  }

  function workflowPanel() {
    var box = document.getElementById("workflow-fields");
    box.replaceChildren();
    var current = typeof state.doc.workflow === "object" ? "" : state.doc.workflow || "standard";
    var picker = B.select([["", "（本主题自定义的流程）"]].concat(templates.map(function (t) { return [t.key, t.title]; })),
      current, function (value) {
        if (!value) { return; }
        state.doc.workflow = value;
        editing = B.clone(templateOf(value).document);
        delete editing.$schema;
        editing.key = inlineKey || editing.key;
        if (state.doc.title) { editing.title = state.doc.title + "处置流程"; }
        workflowPanel();
      });
    picker.classList.add("workflow-template");
    box.appendChild(withProblems("/workflow", B.labelled("流程模板", picker, "先选模板，再修改各环节的时限和可办理的角色；修改后保存为本主题自己的流程")));
    if (!editing) { return; }
    box.appendChild(limitTable(editing));
    box.appendChild(roleTable(editing));
  }

  function hoursInput(limit, level, label, onChange) {
    var value = limit ? limit[level] : "";
    var element = B.input(value, function (text) { onChange(level, B.numberOrUndefined(text, false)); },
      { type: "number", min: "0", step: "any", inputmode: "decimal", "aria-label": label, "class": "hours" });
    return element;
  }

  function limitTable(workflow) {
    var table = h("table", { "class": "list limits" }, [h("caption", { text: "办理时限（小时；未填的环节不限时）" }),
      h("thead", {}, [h("tr", {}, [h("th", { text: "环节" })].concat(URGENCIES.map(function (u) { return h("th", { text: u[1] }); })))])]);
    var body = h("tbody");
    var rows = [["", "全程（上报到办结）", workflow.due]];
    Object.keys(workflow.states).forEach(function (name) {
      var s = workflow.states[name];
      if (!s.final) { rows.push([name, s.title, s.time_limit]); }
    });
    rows.forEach(function (row) {
      var pointer = row[0] ? "/workflow/states/" + row[0] + "/time_limit" : "/workflow/due";
      var tr = h("tr", { "data-pointer": pointer }, [h("th", { scope: "row" }, [row[1], problemBox(pointer)])]);
      URGENCIES.forEach(function (u) {
        tr.appendChild(h("td", {}, [hoursInput(row[2], u[0], row[1] + " " + u[1], function (level, hours) {
          var wf = inline();
          var holder = row[0] ? wf.states[row[0]] : wf;
          var key = row[0] ? "time_limit" : "due";
          var limit = holder[key] || { normal: undefined, urgent: undefined, critical: undefined };
          if (hours === undefined) { delete limit[level]; } else { limit[level] = hours; }
          var empty = URGENCIES.every(function (x) { return limit[x[0]] === undefined; });
          if (empty) { delete holder[key]; } else { holder[key] = limit; }
        })]));
      });
      body.appendChild(tr);
    });
    table.appendChild(body);
    return table;
  }

  function roleTable(workflow) {
    var roles = ["operator", "department_staff", "grid_worker", "citizen"];
    var table = h("table", { "class": "list step-roles" }, [h("caption", { text: "哪些角色可以办理各个步骤" }),
      h("thead", {}, [h("tr", {}, [h("th", { text: "步骤" })].concat(roles.map(function (r) { return h("th", { text: ROLE_TITLES[r] }); })))])]);
    var body = h("tbody");
    workflow.transitions.forEach(function (transition, index) {
      var pointer = "/workflow/transitions/" + index;
      var tr = h("tr", { "data-pointer": pointer }, [h("th", { scope: "row" }, [transition.title, problemBox(pointer)])]);
      roles.forEach(function (role) {
        var box = h("input", { type: "checkbox", "aria-label": transition.title + "：" + ROLE_TITLES[role] });
        box.checked = transition.roles.indexOf(role) >= 0;
        box.addEventListener("change", function () {
          var target = inline().transitions[index];
          target.roles = target.roles.filter(function (r) { return r !== role; });
          if (box.checked) { target.roles.push(role); }
          B.changed();
        });
        tr.appendChild(h("td", {}, [box]));
      });
      body.appendChild(tr);
    });
    table.appendChild(body);
    return table;
  }

  function refreshDiagram() {
    var image = document.getElementById("workflow-diagram");
    if (image) { image.src = image.dataset.src + "?t=" + Date.now(); }
  }

  /* ---------- 事件类别 ---------- */

  var departments = readJSON("departments") || [];

  function categoriesPanel() {
    var box = document.getElementById("category-fields");
    box.replaceChildren();
    var categories = state.doc.categories = state.doc.categories || [];
    var list = h("ol", { "class": "categories" });
    categories.forEach(function (category, index) {
      var pointer = "/categories/" + index;
      var item = h("li", { "class": "category", "data-pointer": pointer }, [
        h("div", { "class": "pair" }, [
          B.labelled("大类", B.input(category.parent, function (v) { B.setOrDelete(category, "parent", v); }, { "class": "category-parent" })),
          B.labelled("小类代码", B.input(category.code, function (v) { category.code = v; }, { "class": "category-code", maxlength: 40 })),
          B.labelled("小类名称", B.input(category.title, function (v) { category.title = v; }, { "class": "category-title", maxlength: 80 }))
        ]),
        B.labelled("分拨到", B.select([["", "本主题所属部门"]].concat(departments.map(function (d) { return [d.key, d.name]; })),
          category.department || "", function (v) { B.setOrDelete(category, "department", v); })),
        h("button", { type: "button", "class": "secondary danger", text: "删除此类别", onclick: function () {
          categories.splice(index, 1); B.changed(); categoriesPanel(); B.placeProblems();
        } }),
        problemBox(pointer)
      ]);
      list.appendChild(item);
    });
    box.appendChild(withProblems("/categories", h("div", {}, [list])));
    box.appendChild(h("button", { type: "button", "class": "secondary add-category", text: "＋ 添加类别", onclick: function () {
      var last = categories[categories.length - 1];
      var code = String(categories.length + 1).padStart(2, "0");
      categories.push({ code: code, title: "新类别", parent: last && last.parent || state.doc.title || "" });
      B.changed();
      categoriesPanel();
      B.placeProblems();
    } }));
  }

  B.panels.push({ render: layerPanel }, { render: workflowPanel, saved: refreshDiagram }, { render: categoriesPanel });
}());
