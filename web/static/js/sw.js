/* 小兰网格 offline: the service worker of the work end (served at /work/sw.js, so its scope is /work/).

   - Pages under /work/ are network-first: a page that loads is kept, and shown from the cache when the network
     is gone. Scripts, styles, icons and the worker's grid outline are served from the cache and refreshed behind.
   - "warm" (a message from offline.js at an online start): fetch the list of the worker's pages
     (/work/offline/pages: the forms of report, patrol and household visit, the lists, the grid outline) and keep
     each as the worker sees it (masked and scoped by the server); pages no longer on the list are dropped.
   - "clear" (sign-out, another account): drop every cache of this app.
   - Kept pages are served for at most KEEP_DAYS after the last online start with a session; older, they are
     dropped (the outbox is not: it lives in IndexedDB and is cleared only by a deliberate sign-out).
   - A form posted as usual whose post fails by network (the phone thought it had signal) is put in the outbox
     (outbox-store.js) here, and the page reopens from the cache saying so; offline.js sends it later. The page
     tells this worker beforehand what the form is ("form" message); nothing is sent from here. */
"use strict";

importScripts("/static/js/outbox-store.js");

var VERSION = "v1";                       // a new version drops the caches of the previous one
var PREFIX = "xiaolan-";
var CACHE = PREFIX + "pages-" + VERSION;
var META = "/work/__offline-meta";        // {account, at}: who the kept pages belong to, when they were fetched
var KEEP_DAYS = 7;
var NEVER = ["/work/offline/", "/work/sync/", "/work/sw.js", "/work/manifest.webmanifest", "/logout", "/login"];
var KEEP = { "X-Offline-Keep": "1" };     // the server leaves the session (and its messages) alone for these
var ASSETS = ["/static/", "/vendor/", "/map/my-grids.geojson"];
var FORMS = [[/^\/work\/report\/([^/]+)$/, "report", "上报"], [/^\/work\/patrols\/(\d+)$/, "patrol", "巡查"],
             [/^\/work\/households\/(\d+)\/visit$/, "visit", "走访"]];
var announced = {};                       // client id → what the page said its form is, just before posting it

function startsWithAny(path, prefixes) {
  return prefixes.some(function (prefix) { return path.indexOf(prefix) === 0; });
}

function clearAll() {
  return caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) { return key.indexOf(PREFIX) === 0; })
      .map(function (key) { return caches.delete(key); }));
  });
}

function readMeta(cache) {
  return cache.match(META).then(function (response) { return response ? response.json() : null; });
}

function writeMeta(cache, account) {
  var body = JSON.stringify({ account: account, at: Date.now() });
  return cache.put(META, new Response(body, { headers: { "Content-Type": "application/json" } }));
}

function keepable(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

function warm(account) {
  return fetch("/work/offline/pages", { credentials: "same-origin", cache: "no-store",
                                        headers: { Accept: "application/json", "X-Offline-Keep": "1" } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (answer) {
      if (!answer || !answer.ok) { return { ok: false, count: 0 }; }
      return caches.open(CACHE).then(function (cache) {
        var wanted = {};
        answer.pages.forEach(function (url) { wanted[new URL(url, self.location.origin).href] = true; });
        var fetched = answer.pages.map(function (url) {
          return fetch(url, { credentials: "same-origin", cache: "no-store", headers: KEEP }).then(function (response) {
            if (keepable(response)) { return cache.put(url, response).then(function () { return 1; }); }
            return 0;
          }).catch(function () { return 0; });
        });
        return Promise.all(fetched).then(function (counts) {
          return cache.keys().then(function (requests) {
            var stale = requests.filter(function (request) {
              return !wanted[request.url] && new URL(request.url).pathname !== META;
            });
            return Promise.all(stale.map(function (request) { return cache.delete(request); }));
          }).then(function () { return writeMeta(cache, answer.account); })
            .then(function () {
              return { ok: true, count: counts.reduce(function (a, b) { return a + b; }, 0) };
            });
        });
      });
    })
    .catch(function () { return { ok: false, count: 0 }; });
}

function offlinePage(message) {
  var html = "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">" +
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>小兰网格</title>" +
    "<link rel=\"stylesheet\" href=\"/static/site.css\"></head><body><main><section class=\"panel\">" +
    "<h1>小兰网格</h1><p>" + message + "</p><p><a href=\"/work/my-grid\">我的网格</a></p>" +
    "</section></main></body></html>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

// A page from the cache, unless the kept pages are too old (then they are dropped).
function fromCache(request) {
  return caches.open(CACHE).then(function (cache) {
    return readMeta(cache).then(function (meta) {
      if (meta && Date.now() - meta.at > KEEP_DAYS * 86400000) {
        return clearAll().then(function () {
          return offlinePage("离线保存的页面已超过 " + KEEP_DAYS + " 天，已清除。请联网后重新登录。" +
                             "手机上待发送的内容仍然保留。");
        });
      }
      return cache.match(request).then(function (found) {
        return found || offlinePage("当前没有网络，这个页面没有保存在手机上。已保存的表单和待发送的内容仍可使用。");
      });
    });
  });
}

function networkFirst(request) {
  return fetch(request).then(function (response) {
    if (keepable(response)) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { return cache.put(request.url.split("#")[0], copy); });
    }
    return response;
  }).catch(function () { return fromCache(request); });
}

function cacheFirst(request, event) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request).then(function (found) {
      var refreshed = fetch(request).then(function (response) {
        if (keepable(response)) { return cache.put(request, response.clone()).then(function () { return response; }); }
        return response;
      });
      if (found) {
        event.waitUntil(refreshed.catch(function () { return null; }));
        return found;
      }
      return refreshed;
    });
  });
}

// What a posted form is: what its page announced, else read from its address (the account: the kept pages').
function formMeta(url, clientId) {
  if (announced[clientId]) { return Promise.resolve(announced[clientId]); }
  var known = FORMS.filter(function (form) { return form[0].test(url.pathname); })[0];
  if (!known) { return Promise.resolve(null); }
  return caches.open(CACHE).then(readMeta).then(function (meta) {
    if (!meta) { return null; }
    return { client_id: clientId, account: meta.account, kind: known[1], target: known[0].exec(url.pathname)[1],
             form_version: "", title: known[2], page: url.pathname };
  });
}

function keepPosted(request) {
  var url = new URL(request.url);
  return request.formData().then(function (data) {
    var clientId = url.searchParams.get("client_id") || data.get("client_id");
    return formMeta(url, clientId).then(function (meta) {
      if (!meta || !clientId) {
        return offlinePage("当前没有网络，提交未能完成。请返回上一页，联网后重新提交。");
      }
      var fields = [], files = [];
      data.forEach(function (value, name) {
        if (name === "csrf_token" || name === "client_id") { return; }
        if (typeof value === "string") { fields.push([name, value]); } else if (value && value.size) {
          files.push({ name: name, blob: value, filename: value.name });
        }
      });
      return self.XiaolanOutbox.get(clientId).then(function (earlier) {
        return self.XiaolanOutbox.put(self.XiaolanOutbox.item(meta, fields, files, earlier));
      }).then(function () {
        delete announced[clientId];
        return Response.redirect(meta.page + "#outbox-queued", 303);
      });
    });
  });
}

self.addEventListener("install", function () { self.skipWaiting(); });

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) { return key.indexOf(PREFIX) === 0 && key !== CACHE; })
      .map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var reply = function (answer) { if (event.source) { event.source.postMessage(answer); } };
  if (data.type === "warm") {
    event.waitUntil(warm(data.account).then(function (result) {
      reply({ type: "warmed", ok: result.ok, count: result.count });
    }));
  } else if (data.type === "form" && data.meta && data.meta.client_id) {
    announced[data.meta.client_id] = data.meta;
  } else if (data.type === "clear") {
    event.waitUntil(clearAll().then(function () { reply({ type: "cleared" }); }));
  }
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method === "POST" && request.mode === "navigate" && url.origin === self.location.origin &&
      FORMS.some(function (form) { return form[0].test(url.pathname); })) {
    event.respondWith(fetch(request.clone()).catch(function () { return keepPosted(request); }));
    return;
  }
  if (request.method !== "GET") { return; }
  if (url.origin !== self.location.origin || startsWithAny(url.pathname, NEVER)) { return; }
  if (request.mode === "navigate" && url.pathname.indexOf("/work/") === 0) {
    event.respondWith(networkFirst(request));
  } else if (startsWithAny(url.pathname, ASSETS)) {
    event.respondWith(cacheFirst(request, event));
  }
});
