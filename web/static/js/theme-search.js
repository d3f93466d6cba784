/* The theme search on "choose what to report": the form works as a GET query without script; with it, the list
   is filtered while typing (title, department and categories, as the server matches them). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-theme-search]");
  if (!form) { return; }
  var input = form.querySelector("input[name=q]"), none = document.getElementById("theme-none");
  var groups = Array.prototype.slice.call(document.querySelectorAll("[data-theme-group]"));

  function filter() {
    var query = input.value.trim().replace(/\s+/g, " ").toLowerCase().slice(0, 40), shown = 0;
    groups.forEach(function (group) {
      var count = 0;
      Array.prototype.forEach.call(group.querySelectorAll("a[data-search]"), function (link) {
        var match = !query || link.dataset.search.indexOf(query) >= 0;
        link.hidden = !match;
        if (match) { count += 1; }
      });
      group.hidden = count === 0;
      if (group.tagName === "DETAILS") { group.open = Boolean(query) && count > 0; }
      shown += count;
    });
    if (none && groups.length) { none.hidden = shown > 0; }
  }
  input.addEventListener("input", filter);
  if (input.value) { filter(); }
}());
