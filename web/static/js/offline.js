/* 小兰网格 offline (docs/work-end.md "Offline"): the outbox of a grid worker's phone.

   - Registers the service worker (/work/sw.js) and, at an online start, asks it to keep the worker's pages.
   - A report, patrol or household-visit form ([data-offline-form]) submitted with no network is not lost: after
     the browser's own checks and the forms' script (required fields, formats, file sizes), its fields go to the
     outbox in IndexedDB (outbox-store.js) with the client id made when the form was opened; photos are first made
     smaller (canvas, JPEG). With the network up the form is posted as usual; should that post fail by network, the
     service worker puts it in the outbox instead (sw.js), told beforehand what the form is. The outbox (#outbox)
     shows "待发送 N 条".
   - Sending: on the `online` event, on every page open and with "立即发送", to /work/sync/<kind>/<target> with
     the session's CSRF token. A sent item leaves the outbox; one the server refuses stays with its message, to
     be corrected ("修改" reopens its form filled in) and sent again; nothing is dropped without the worker
     deleting it. Items of another account wait for that account.
   - Signing out on purpose warns about unsent items, then clears the outbox and the kept pages. */
(function () {
  "use strict";

  var box = document.getElementById("outbox");
  if (!box || !window.indexedDB || !window.fetch || !window.XiaolanOutbox) { return; }
  var ACCOUNT = Number(box.dataset.account);
  var PHOTO_EDGE = 1600, PHOTO_QUALITY = 0.8;          // photos are kept at most 1600 px on the long edge
  var WARM_EVERY = 10 * 60 * 1000;                     // a page open re-fetches the kept pages at most this often
  var STATUS_EVERY = 5 * 60 * 1000;                    // and reports the waiting count at most this often
  var EDIT = "#outbox-edit=";
  var sending = false;

  var Outbox = window.XiaolanOutbox;
  function allItems() { return Outbox.all(); }
  function mine(items) { return items.filter(function (item) { return item.account === ACCOUNT; }); }

  // -- ids, photos ----------------------------------------------------------------------------------------------

  function newClientId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID().replace(/-/g, ""); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function smaller(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) || !window.createImageBitmap) { return Promise.resolve(file); }
    return createImageBitmap(file).then(function (image) {
      var scale = Math.min(1, PHOTO_EDGE / Math.max(image.width, image.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(image.width * scale);
      canvas.height = Math.round(image.height * scale);
      canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) { resolve(blob && blob.size < file.size ? blob : file); }, "image/jpeg",
                      PHOTO_QUALITY);
      });
    }).catch(function () { return file; });
  }

  function photoName(name) { return name.replace(/\.[^.]*$/, "") + ".jpg"; }

  // -- the forms ------------------------------------------------------------------------------------------------

  function offlineForms() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-offline-form]")).map(function (wrapper) {
      return { wrapper: wrapper, form: wrapper.querySelector("form") };
    }).filter(function (pair) { return pair.form; });
  }

  // The client id rides in the action URL (report, patrol) or a hidden field (household visit).
  function setClientId(form, id) {
    var hidden = form.querySelector("input[name=client_id]");
    if (hidden) { hidden.value = id; }
    var action = new URL(form.action, location.href);
    if (action.searchParams.has("client_id")) {
      action.searchParams.set("client_id", id);
      form.action = action.pathname + action.search;
    }
    form.dataset.clientId = id;
  }

  var SKIPPED = { csrf_token: true, client_id: true };

  function readForm(form, submitter) {
    var data = new FormData(form, submitter || undefined), fields = [], files = [];
    data.forEach(function (value, name) {
      if (SKIPPED[name]) { return; }
      if (typeof value === "string") { fields.push([name, value]); } else if (value && value.size) {
        files.push({ name: name, file: value });
      }
    });
    return Promise.all(files.map(function (entry) {
      return smaller(entry.file).then(function (blob) {
        var renamed = blob === entry.file ? entry.file.name : photoName(entry.file.name);
        return { name: entry.name, blob: blob, filename: renamed };
      });
    })).then(function (photos) { return { fields: fields, files: photos }; });
  }

  function fillForm(form, item) {
    var seen = {};
    item.fields.forEach(function (pair) {
      var name = pair[0], value = pair[1];
      Array.prototype.forEach.call(form.querySelectorAll("[name]"), function (control) {
        if (control.name !== name || control.type === "file") { return; }
        if (control.type === "radio" || control.type === "checkbox") {
          if (!seen[name]) { control.checked = false; }
          if (control.value === value) { control.checked = true; }
        } else if (control.tagName === "SELECT" && control.multiple) {
          Array.prototype.forEach.call(control.options, function (option) {
            if (option.value === value) { option.selected = true; }
          });
        } else {
          control.value = value;
        }
      });
      seen[name] = true;
    });
    if (window.MinqingForms) { window.MinqingForms.refresh(form); }
  }

  function metaOf(pair) {
    var wrapper = pair.wrapper;
    return { client_id: pair.form.dataset.clientId, account: ACCOUNT, kind: wrapper.dataset.kind,
             target: wrapper.dataset.target, form_version: wrapper.dataset.formVersion || "",
             title: wrapper.dataset.title || document.title, page: location.pathname };
  }

  // Posting as usual: should the post fail by network, the service worker keeps it, knowing what form it was.
  function announce(pair) {
    var worker = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (worker) { worker.postMessage({ type: "form", meta: metaOf(pair) }); }
  }

  function queue(pair, submitter, editing) {
    var form = pair.form;
    return readForm(form, submitter).then(function (read) {
      var meta = metaOf(pair);
      return Outbox.get(meta.client_id).then(function (earlier) {
        // a correction keeps the photos stored with the item unless new ones were chosen
        var files = read.files.length || !earlier ? read.files : earlier.files;
        return Outbox.put(Outbox.item(meta, read.fields, files, earlier));
      });
    }).then(function () {
      setClientId(form, newClientId());      // the next report from this page is another one
      form.reset();
      note("已存入待发送，联网后自动发送" + (editing ? "" : "；可以继续填写下一份"));
      return render();
    });
  }

  function intercept(pair) {
    var editing = location.hash.indexOf(EDIT) === 0;
    document.addEventListener("submit", function (event) {
      if (event.target !== pair.form || event.defaultPrevented) { return; }
      var submitter = event.submitter;
      if (submitter && submitter.name && submitter.name.indexOf("__") === 0) { return; }   // a row button
      if (!editing && navigator.onLine !== false) { announce(pair); return; }   // posted as usual
      event.preventDefault();
      queue(pair, submitter, editing).then(function () {
        if (!editing) { return null; }
        history.replaceState(null, "", location.pathname);
        editing = false;
        var errors = document.getElementById("outbox-errors");
        if (errors) { errors.remove(); }
        return sendAll(true);
      }).catch(function (error) { note("未能保存到手机：" + error); });
    });
  }

  function openForEdit(pair) {
    if (location.hash.indexOf(EDIT) !== 0) { return; }
    var id = decodeURIComponent(location.hash.slice(EDIT.length));
    Outbox.get(id).then(function (item) {
      if (!item || item.account !== ACCOUNT) { return; }
      fillForm(pair.form, item);
      setClientId(pair.form, item.client_id);
      var list = document.createElement("div");
      list.id = "outbox-errors";
      list.className = "flash error";
      list.setAttribute("role", "alert");
      var title = document.createElement("p");
      title.textContent = "这条内容未被受理，请修改后重新保存：";
      list.appendChild(title);
      messagesOf(item).forEach(function (text) {
        var line = document.createElement("p");
        line.textContent = text;
        list.appendChild(line);
      });
      if (item.files.length) {
        var kept = document.createElement("p");
        kept.textContent = "已保存 " + item.files.length + " 张照片（重新选择照片将替换）";
        list.appendChild(kept);
      }
      pair.form.parentNode.insertBefore(list, pair.form);
    });
  }

  function messagesOf(item) {
    var lines = [];
    Object.keys(item.errors || {}).forEach(function (field) {
      (item.errors[field] || []).forEach(function (text) { lines.push(text); });
    });
    return lines.length ? lines : (item.message ? [item.message] : []);
  }

  // -- the outbox on the page ----------------------------------------------------------------------------------

  function note(text) { document.getElementById("outbox-state").textContent = text; }

  function render() {
    return allItems().then(function (items) {
      var own = mine(items), list = document.getElementById("outbox-items");
      document.getElementById("outbox-count").textContent = "待发送 " + own.length + " 条";
      box.dataset.count = String(own.length);
      box.hidden = own.length === 0 && !document.getElementById("outbox-state").textContent;
      list.textContent = "";
      own.forEach(function (item) {
        var li = document.createElement("li");
        li.dataset.clientId = item.client_id;
        li.className = item.status === "refused" ? "refused" : "waiting";
        var what = document.createElement("span");
        what.textContent = item.title + " · " + new Date(item.created_at).toLocaleString("zh-CN") +
          (item.files.length ? " · 照片 " + item.files.length + " 张" : "");
        li.appendChild(what);
        if (item.status === "refused") {
          var why = document.createElement("p");
          why.className = "error";
          why.textContent = "未受理：" + messagesOf(item).join("；");
          li.appendChild(why);
          var edit = document.createElement("a");
          edit.href = item.page + EDIT + encodeURIComponent(item.client_id);
          edit.textContent = "修改";
          edit.className = "button secondary";
          li.appendChild(edit);
        }
        var drop = document.createElement("button");
        drop.type = "button";
        drop.className = "link";
        drop.textContent = "删除";
        drop.addEventListener("click", function () {
          if (window.confirm("删除后这条内容不会发送，也无法恢复。确定删除？")) {
            Outbox.remove(item.client_id).then(render);
          }
        });
        li.appendChild(drop);
        list.appendChild(li);
      });
      return own.length;
    });
  }

  // -- sending --------------------------------------------------------------------------------------------------

  function session() {
    return fetch(box.dataset.session, { credentials: "same-origin", cache: "no-store",
                                        headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return { status: response.status, body: body };
        });
      });
  }

  function sendOne(item, csrf) {
    var query = "?client_id=" + encodeURIComponent(item.client_id) +
      (item.form_version ? "&form_version=" + encodeURIComponent(item.form_version) : "");
    var body = new FormData();
    item.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    item.files.forEach(function (photo) { body.append(photo.name, photo.blob, photo.filename); });
    var url = box.dataset.sync + item.kind + "/" + encodeURIComponent(item.target) + query;
    return fetch(url, { method: "POST", body: body, credentials: "same-origin", cache: "no-store",
                        headers: { Accept: "application/json", "X-CSRFToken": csrf } })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (answer) {
          return { status: response.status, answer: answer };
        });
      }, function () { return { status: 0, answer: null }; });   // no answer: the item waits for the next run
  }

  // "sent", "refused", "signin" or "later" (network, server trouble: the item waits, the run stops)
  function outcome(result) {
    var answer = result.answer;
    if (answer && answer.ok === true) { return "sent"; }
    if (result.status === 401) { return "signin"; }
    if (answer && [403, 404, 413, 422].indexOf(result.status) >= 0) { return "refused"; }
    return "later";
  }

  // A page kept offline carries the token of the session it was kept under: the forms get the current one.
  function freshTokens(csrf) {
    Array.prototype.forEach.call(document.querySelectorAll("input[name=csrf_token]"), function (input) {
      input.value = csrf;
    });
  }

  function reportStatus(csrf) {
    return allItems().then(function (items) {
      var body = new FormData();
      body.append("pending", String(mine(items).length));
      return fetch(box.dataset.sync + "status", { method: "POST", body: body, credentials: "same-origin",
                                                 headers: { Accept: "application/json", "X-CSRFToken": csrf } });
    }).then(function () { localStorage.setItem("xiaolan-status-at", String(Date.now())); })
      .catch(function () { /* reported at the next sync */ });
  }

  function sendAll(force) {
    if (sending) { return Promise.resolve(); }
    sending = true;
    var sent = 0, refused = 0;
    return allItems().then(function (items) {
      var waiting = mine(items).filter(function (item) { return item.status !== "refused"; });
      var due = Number(localStorage.getItem("xiaolan-status-at") || 0) + STATUS_EVERY < Date.now();
      if (!waiting.length && !force && !due) { return null; }
      return session().then(function (answer) {
        if (answer.status === 401) {
          note("登录已失效：请重新登录，待发送的内容仍保存在手机上，登录后自动发送");
          return null;
        }
        if (!answer.body || !answer.body.ok) { note("暂时无法连接服务器，稍后自动发送"); return null; }
        var csrf = answer.body.csrf_token;
        freshTokens(csrf);
        var chain = Promise.resolve("go");
        waiting.forEach(function (item) {
          chain = chain.then(function (state) {
            if (state !== "go") { return state; }
            return sendOne(item, csrf).then(function (result) {
              var kind = outcome(result);
              if (kind === "sent") { sent += 1; return Outbox.remove(item.client_id).then(function () { return "go"; }); }
              if (kind === "refused") {
                refused += 1;
                item.status = "refused";
                item.message = result.answer.message || "未受理";
                item.errors = result.answer.errors || {};
                return Outbox.put(item).then(function () { return "go"; });
              }
              return kind;
            });
          });
        });
        return chain.then(function (state) {
          if (state === "signin") { note("登录已失效：请重新登录，待发送的内容仍保存在手机上，登录后自动发送"); }
          else if (state === "later") { note("发送中断，网络恢复后自动重发"); }
          else if (sent || refused) {
            note((sent ? "已发送 " + sent + " 条" : "") + (sent && refused ? "；" : "") +
                 (refused ? refused + " 条未受理，请修改后重新发送" : ""));
          }
          return reportStatus(csrf);
        });
      });
    }).catch(function () { note("暂时无法连接服务器，稍后自动发送"); })
      .then(function () { sending = false; return render(); });
  }

  // -- the service worker, sign-out -----------------------------------------------------------------------------

  function startWorker() {
    if (!("serviceWorker" in navigator) || !window.isSecureContext) { return; }
    // ask the browser not to evict the outbox and the kept pages under storage pressure (it may say no)
    if (navigator.storage && navigator.storage.persist) { navigator.storage.persist().catch(function () { return false; }); }
    navigator.serviceWorker.register(box.dataset.sw, { scope: box.dataset.scope }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      var worker = registration.active;
      if (!worker || navigator.onLine === false) { return; }
      var owner = localStorage.getItem("xiaolan-offline-account");
      var last = Number(sessionStorage.getItem("xiaolan-warmed-at") || 0);
      if (owner !== String(ACCOUNT)) { worker.postMessage({ type: "clear" }); last = 0; }
      if (Date.now() - last < WARM_EVERY) { document.documentElement.dataset.offlineReady = "1"; return; }
      navigator.serviceWorker.addEventListener("message", function (event) {
        if (!event.data || event.data.type !== "warmed") { return; }
        if (event.data.ok) {
          localStorage.setItem("xiaolan-offline-account", String(ACCOUNT));
          sessionStorage.setItem("xiaolan-warmed-at", String(Date.now()));
        }
        document.documentElement.dataset.offlineReady = event.data.ok ? "1" : "0";
      });
      worker.postMessage({ type: "warm", account: ACCOUNT });
    }).catch(function () { /* no offline pages: the forms and the outbox still work */ });
  }

  function guardSignOut() {
    Array.prototype.forEach.call(document.querySelectorAll("form[action$='/logout']"), function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.cleared) { return; }
        event.preventDefault();
        allItems().then(function (items) {
          if (items.length && !window.confirm("手机上还有 " + items.length + " 条未发送的内容，退出登录将删除它们。" +
                                              "确定退出？（取消后可先联网发送）")) { return null; }
          var caches = window.caches ? window.caches.keys().then(function (keys) {
            return Promise.all(keys.filter(function (key) { return key.indexOf("xiaolan-") === 0; })
              .map(function (key) { return window.caches.delete(key); }));
          }) : Promise.resolve();
          localStorage.removeItem("xiaolan-offline-account");
          sessionStorage.removeItem("xiaolan-warmed-at");
          return Promise.all([Outbox.clear(), caches]).then(session).then(function (answer) {
            if (answer.body && answer.body.csrf_token) { freshTokens(answer.body.csrf_token); }
          }, function () { return null; }).then(function () {
            form.dataset.cleared = "1";
            form.submit();
          });
        });
      });
    });
  }

  // -- start ----------------------------------------------------------------------------------------------------

  var insecure = document.getElementById("offline-https");
  if (insecure && window.isSecureContext) { insecure.remove(); }   // the server could not tell (a TLS proxy)

  offlineForms().forEach(function (pair) {
    setClientId(pair.form, newClientId());   // a page kept offline must not hand out its client id twice
    intercept(pair);
    openForEdit(pair);
  });
  if (location.hash === "#outbox-queued") {      // the service worker kept a post that failed by network
    history.replaceState(null, "", location.pathname + location.search);
    var kept = document.createElement("p");
    kept.id = "outbox-kept";
    kept.className = "flash info";
    kept.setAttribute("role", "status");
    kept.textContent = "没有网络，刚才的提交已存入待发送，联网后自动发送";
    box.parentNode.insertBefore(kept, box);
  }
  document.getElementById("outbox-send").addEventListener("click", function () { sendAll(true); });
  window.addEventListener("online", function () { sendAll(); startWorker(); });
  guardSignOut();
  render().then(function () { return sendAll(); });
  startWorker();
}());
