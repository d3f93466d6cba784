/* The department picker (部门选择): a filter box above every <select data-dept-picker>. Without this script the
   select works as it is, grouped by parent department. Typing keeps the departments whose full or short name
   contains the text (their groups with them); a single-choice picker then selects the first match unless the
   chosen one still matches; a multiple picker keeps what is chosen in view. No inline script or style: the site's CSP allows neither. */
(function () {
  "use strict";

  function normalise(text) {
    return (text || "").replace(/\s+/g, "").toLowerCase();
  }

  function enhance(select) {
    if (select.dataset.deptPickerReady) { return; }
    select.dataset.deptPickerReady = "1";
    // Kept aside: the full list of groups and options, so filtering can rebuild the select from it.
    var groups = Array.prototype.map.call(select.querySelectorAll("optgroup"), function (group) {
      return {element: group, options: Array.prototype.slice.call(group.querySelectorAll("option"))};
    });
    var box = document.createElement("input");
    box.type = "search";
    box.className = "mq-input dept-picker-filter";
    box.placeholder = "输入部门名称或简称筛选";
    box.setAttribute("aria-label", "筛选部门");
    box.setAttribute("aria-controls", select.id);
    box.autocomplete = "off";
    var count = document.createElement("p");
    count.className = "mq-help dept-picker-count";
    count.setAttribute("aria-live", "polite");
    select.parentNode.insertBefore(box, select);
    select.parentNode.insertBefore(count, select.nextSibling);

    function filter() {
      var wanted = normalise(box.value);
      var shown = 0;
      var first = null;
      groups.forEach(function (group) {
        var visible = 0;
        group.options.forEach(function (option) {
          var match = !wanted || normalise(option.dataset.search + option.textContent).indexOf(wanted) >= 0;
          // a choice already made in a multiple picker stays, or the next filter would drop it from the form
          if (match || (select.multiple && option.selected)) {
            group.element.appendChild(option);   // in the original order
            visible += 1;
            if (match && !first) { first = option; }
          } else if (option.parentNode) {
            option.parentNode.removeChild(option);   // hidden options still show on some phones
          }
        });
        if (visible && !group.element.parentNode) {
          select.appendChild(group.element);
        } else if (!visible && group.element.parentNode) {
          select.removeChild(group.element);
        }
        shown += visible;
      });
      groups.forEach(function (group) {   // keep the original order of the groups
        if (group.element.parentNode) { select.appendChild(group.element); }
      });
      if (!select.multiple && wanted && first && (!select.selectedOptions.length || !select.value)) {
        first.selected = true;
      }
      count.textContent = wanted ? (shown ? "找到 " + shown + " 个部门" : "没有名称含“" + box.value + "”的部门") : "";
    }

    box.addEventListener("input", filter);
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); select.focus(); }   // Enter must not submit the form
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("select[data-dept-picker]"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
