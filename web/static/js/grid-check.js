/* Before a report is sent: is the chosen point in one of the platform's grids? The server refuses a point outside
   every grid; asking as soon as the point is set lets the reporter pick another place before submitting. A point
   outside the reporter's own grid gets a warning (#grid-own) and is sent all the same. A failed check never stops
   a report (the server has the last word). */
(function () {
  "use strict";
  var note = document.getElementById("grid-check");
  if (!note || !window.fetch) { return; }
  var form = note.closest("section") && note.closest("section").querySelector("form");
  if (!form) { return; }
  var answers = {}, timer = null;

  function point() {
    var lon = form.querySelector("input[name$='-lon']"), lat = form.querySelector("input[name$='-lat']");
    if (!lon || !lat || !lon.value.trim() || !lat.value.trim()) { return null; }
    return new URLSearchParams({ lon: lon.value.trim(), lat: lat.value.trim() }).toString();
  }

  var warning = document.getElementById("grid-own");

  function show(query) {
    var answer = query ? answers[query] : null;
    var outside = Boolean(answer && answer.inside === false);
    note.textContent = outside ? answer.message : "";
    note.hidden = !outside;
    if (warning) {
      warning.textContent = answer && answer.warning ? answer.warning : "";
      warning.hidden = !warning.textContent;
    }
    return outside;
  }

  function check() {
    var query = point();
    if (!query) { show(null); return; }
    if (answers[query]) { show(query); return; }
    fetch(note.dataset.url + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data) { answers[query] = data; }
        if (query === point()) { show(query); }
      })
      .catch(function () { /* the server checks again on submit */ });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitter && submitter.name) { return; }   // adding or removing a row is no report yet
    if (show(point())) {
      event.preventDefault();
      note.scrollIntoView({ block: "center" });
    }
  });
  setInterval(check, 1500);   // "使用我的位置" and the map fill the fields from script, without an input event
  check();
}());
