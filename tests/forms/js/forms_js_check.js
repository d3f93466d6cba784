/*
 * Manual browser-behaviour check of forms/static/forms.js in jsdom (not part of pytest, which
 * must not depend on Node). Run through run_forms_js_check.py, which renders the forms:
 *
 *     npm install --prefix /tmp/jsdom jsdom@24
 *     NODE_PATH=/tmp/jsdom/node_modules python tests/forms/js/run_forms_js_check.py
 */
const { JSDOM, VirtualConsole } = require("jsdom");
const fs = require("fs");

const pages = JSON.parse(fs.readFileSync(0, "utf8"));
const script = fs.readFileSync(process.argv[2], "utf8");
let failures = 0;

function check(name, actual, expected) {
  const ok = JSON.stringify(actual) === JSON.stringify(expected);
  if (!ok) failures++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok ? "" : ": got " + JSON.stringify(actual) + ", want " + JSON.stringify(expected)}`);
}

function load(html, done) {
  const console_ = new VirtualConsole();
  console_.on("jsdomError", (e) => { failures++; console.log("FAIL script error: " + e.message); });
  const dom = new JSDOM(`<!doctype html><body>${html}</body>`, { runScripts: "outside-only", virtualConsole: console_ });
  dom.window.navigator.geolocation = {
    getCurrentPosition: (ok) => ok({ coords: { longitude: 103.834, latitude: 36.061, accuracy: 12 } }),
  };
  dom.window.eval(script);
  setTimeout(() => done(dom.window, dom.window.document), 20);  // after DOMContentLoaded
}

const fire = (w, el, type) => el.dispatchEvent(new w.Event(type, { bubbles: true }));
const shown = (d, id) => !d.getElementById(id + "-field").hidden;

load(pages.house, (w, d) => {
  check("conditional fields start hidden", [shown(d, "crack_description"), shown(d, "structure_other")], [false, false]);
  check("hidden fields are disabled", d.getElementById("crack_description").disabled, true);
  const yes = d.querySelector("input[name=has_cracks][value=true]");
  yes.checked = true; fire(w, yes, "change");
  check("answering 是 shows the crack description", [shown(d, "crack_description"), d.getElementById("crack_description").disabled], [true, false]);
  const structure = d.getElementById("structure");
  structure.value = "other"; fire(w, structure, "change");
  check("structure 其他 shows its note field", shown(d, "structure_other"), true);
  const name0 = d.getElementById("residents-0-id_number");
  check("spare row fields are not required", name0.required, false);
  const typed = d.getElementById("residents-0-name"); typed.value = "李四"; fire(w, typed, "input");
  check("a used row's fields become required", name0.required, true);
  d.querySelector("button[name=__add__residents]").click();
  const rows = () => Array.from(d.querySelectorAll("[data-mq-repeat=residents] > [data-mq-rows] > [data-mq-row]"));
  check("add row", rows().map((r) => r.id), ["residents-0-field", "residents-1-field"]);
  check("row titles", rows().map((r) => r.querySelector("[data-mq-row-title]").textContent), ["第1位", "第2位"]);
  rows()[0].querySelector("[data-mq-action=remove]").click();
  d.querySelector("button[name=__add__residents]").click();
  check("remove keeps names, new rows continue", rows().map((r) => r.id), ["residents-1-field", "residents-2-field"]);
  const no = d.querySelector("input[name=has_cracks][value=false]");
  no.checked = true; fire(w, no, "change");
  const posted = Array.from(new w.FormData(d.querySelector("form")).keys());
  check("hidden fields are not submitted", posted.includes("crack_description"), false);
  check("forms.js marks the form", d.querySelector("form").classList.contains("mq-js"), true);
});

load(pages.nested, (w, d) => {
  d.querySelector("button[name=__add__families]").click();
  const inner = d.querySelector('[data-mq-repeat="families-1-members"]');
  check("nested repeat inside a new row is renamed", !!inner, true);
  inner.querySelector("button[data-mq-action=add]").click();
  check("nested add", Array.from(inner.querySelectorAll(":scope > [data-mq-rows] > [data-mq-row]")).map((r) => r.id),
        ["families-1-members-0-field", "families-1-members-1-field"]);
  check("row conditions start closed", shown(d, "families-1-members-1-grade"), false);
  const flag = d.getElementById("families-1-members-1-disabled"); flag.checked = true; fire(w, flag, "change");
  check("row condition uses its own row", [shown(d, "families-1-members-1-grade"), shown(d, "families-1-members-0-grade")], [true, false]);
  check("dependent hidden without trigger", shown(d, "contact"), false);
  const phone = d.getElementById("phone"); phone.value = "13800138000"; fire(w, phone, "input");
  check("dependent shown with trigger", shown(d, "contact"), true);
  const guardian = d.getElementById("guardian-name");
  const before = guardian.required;
  const mobile = d.getElementById("guardian-mobile"); mobile.value = "139"; fire(w, mobile, "input");
  check("optional group becomes required once used", [before, guardian.required], [false, true]);
  Array.from(d.querySelectorAll(".mq-geo-tools button")).find((b) => b.textContent === "使用我的位置").click();
  check("use my location", [d.getElementById("home-lon").value, d.getElementById("home-lat").value], ["103.834000", "36.061000"]);
  const add = d.querySelector("button[name=__add__families]");
  add.click();
  check("maxItems disables add", add.disabled, true);
});

load("", (w) => {
  const M = w.MinqingForms;
  const conditions = pages.agreement.conditions;
  const differ = conditions.filter(([c, o, server]) => M.matches(c, o) !== server);
  check(`conditions agree with the server (${conditions.length} cases)`, differ, []);
  const parsed = pages.agreement.parsed;
  const wrong = parsed.filter(([t, k, text, server]) => {
    const v = M.parseScalar(t, k, text);
    return (v === undefined ? null : v) !== server;
  });
  check(`values are read as the server reads them (${parsed.length} cases)`, wrong, []);
});

setTimeout(() => { console.log(failures ? `${failures} failed` : "all passed"); process.exit(failures ? 1 : 0); }, 200);
