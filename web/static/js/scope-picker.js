// Scope pickers of the admin pages: an <input list=…> whose suggestions ("name（code）") come from /admin/scopes as
// the administrator types. The kind (region, department, grid) is the input's data-scope-kind, or the data-kind of
// the option chosen in the form's role or template <select>.
(function () {
  "use strict";
  function kindOf(input) {
    if (input.dataset.scopeKind) return input.dataset.scopeKind;
    var form = input.form;
    var chosen = form && form.querySelector("select[data-scope-select]");
    var option = chosen && chosen.options[chosen.selectedIndex];
    return option ? option.dataset.kind || "" : "";
  }
  function refresh(input) {
    var kind = kindOf(input);
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    if (!kind) { list.innerHTML = ""; return; }
    var url = input.dataset.source + "?kind=" + encodeURIComponent(kind) + "&q=" + encodeURIComponent(input.value);
    fetch(url, {credentials: "same-origin"}).then(function (response) { return response.json(); })
      .then(function (answer) {
        list.innerHTML = "";
        answer.options.forEach(function (text) {
          var option = document.createElement("option");
          option.value = text;
          list.appendChild(option);
        });
      }).catch(function () { /* suggestions are a help only: typing a code still works */ });
  }
  document.querySelectorAll("input[data-source]").forEach(function (input) {
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { refresh(input); }, 200);
    });
    input.addEventListener("focus", function () { refresh(input); });
  });
})();
