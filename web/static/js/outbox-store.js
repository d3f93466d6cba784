/* 小兰网格 offline: the outbox in IndexedDB, shared by the pages (offline.js) and the service worker (sw.js), which
   both put items in it. An item: {client_id, account, kind, target, form_version, title, page, fields: [[name,
   value]], files: [{name, blob, filename}], created_at, status: "waiting"|"refused", message, errors}. */
(function (scope) {
  "use strict";
  var DB_NAME = "xiaolan-outbox", STORE = "items";

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "client_id" }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function run(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode), result;
        var request = work(tx.objectStore(STORE));
        if (request) { request.onsuccess = function () { result = request.result; }; }
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  scope.XiaolanOutbox = {
    all: function () {
      return run("readonly", function (s) { return s.getAll(); }).then(function (items) {
        return (items || []).sort(function (a, b) { return a.created_at - b.created_at; });
      });
    },
    get: function (id) { return run("readonly", function (s) { return s.get(id); }); },
    put: function (item) { return run("readwrite", function (s) { return s.put(item); }); },
    remove: function (id) { return run("readwrite", function (s) { return s.delete(id); }); },
    clear: function () { return run("readwrite", function (s) { return s.clear(); }); },
    // A new item as the outbox keeps it (status waiting).
    item: function (meta, fields, files, earlier) {
      return {
        client_id: meta.client_id, account: meta.account, kind: meta.kind, target: meta.target,
        form_version: meta.form_version || "", title: meta.title, page: meta.page, fields: fields, files: files,
        created_at: earlier ? earlier.created_at : Date.now(), status: "waiting", message: "", errors: {}
      };
    }
  };
}(self));
