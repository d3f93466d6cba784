/* 重复件 while reporting: once the place is set (and as the title, description and category change), ask the
   server for likely duplicates in the reporter's scope and list them above the submit button. */
(function () {
  "use strict";
  var box = document.getElementById("duplicate-check");
  if (!box || !window.fetch) { return; }
  var form = box.closest("section") && box.closest("section").querySelector("form");
  if (!form) { return; }
  var timer = null, last = "";

  function value(selector) {
    var field = form.querySelector(selector);
    return field ? field.value.trim() : "";
  }

  function text() {
    var parts = [value("[name=title]")];
    form.querySelectorAll("textarea, input[type=text]").forEach(function (field) {
      if (/(description|content)$/.test(field.name)) { parts.push(field.value.trim()); }
    });
    return parts.join(" ");
  }

  function photos() {
    var ids = [];
    form.querySelectorAll("input[type=hidden]").forEach(function (field) {
      if (/^[0-9a-f]{32}$/.test(field.value)) { ids.push(field.value); }
    });
    return ids.slice(0, 10).join(",");
  }

  function query() {
    var lon = value("input[name$='-lon']"), lat = value("input[name$='-lat']");
    if (!lon || !lat) { return null; }
    return new URLSearchParams({ theme: box.dataset.theme, category: value("[name=category]"), lon: lon, lat: lat,
                                 text: text().slice(0, 2000), photos: photos() }).toString();
  }

  function line(item) {
    var li = document.createElement("li");
    var link = document.createElement("a");
    link.href = item.url;
    link.textContent = item.number + " " + item.title;
    link.target = "_blank";
    li.appendChild(link);
    var tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = item.status_title;
    li.appendChild(document.createTextNode(" "));
    li.appendChild(tag);
    var why = document.createElement("small");
    why.textContent = "相距 " + Math.round(item.distance_m) + " 米，相差 " + item.hours_apart + " 小时，文字相似 " +
      Math.round(item.text_similarity * 100) + "%" + (item.photo_match ? "，照片近似" : "");
    li.appendChild(document.createElement("br"));
    li.appendChild(why);
    return li;
  }

  function show(items) {
    box.replaceChildren();
    box.hidden = !items.length;
    if (!items.length) { return; }
    var title = document.createElement("p");
    title.textContent = box.dataset.intro;
    box.appendChild(title);
    var list = document.createElement("ul");
    items.forEach(function (item) { list.appendChild(line(item)); });
    box.appendChild(list);
  }

  function check() {
    var q = query();
    if (!q || q === last) { return; }
    last = q;
    fetch(box.dataset.url + "?" + q, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { candidates: [] }; })
      .then(function (data) { show(data.candidates || []); })
      .catch(function () { /* a failed check must never stop a report */ });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(check, 600);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  setInterval(check, 3000);   // "使用我的位置" fills the fields from script, without an input event
}());
