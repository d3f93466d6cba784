/* Address search over the 一标三实 standard addresses (/report-map/addresses.json), shared by the report forms' map
   picker (report-map.js) and the ledgers' drawing map (ledger-map.js): a query box, a search button, a list of
   results as buttons and a note line; picking a result calls `onPick(item)` with {text, lon, lat}.
   Loaded before the map's own script; no inline script (the CSP allows none). */
(function () {
  "use strict";
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); });
  }

  window.mqAddressSearch = function (options) {
    var query = options.query, list = options.list, note = options.note;
    function search() {
      var text = query.value.trim();
      list.innerHTML = "";
      if (text.length < 2) { note.textContent = "请至少输入 2 个字"; return; }
      note.textContent = "正在搜索…";
      var url = options.url + (options.url.indexOf("?") >= 0 ? "&" : "?") +
        new URLSearchParams({ q: text.slice(0, 40) }).toString();
      getJSON(url).then(function (answer) {
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
  };
}());
