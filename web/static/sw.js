// The service worker behind the expert's checklist (served as /sw.js so its scope is the whole site).
//
// The checklist page and its checklist.json: network first, the kept copy when there is no network (or it does
// not answer in time). /static/: the kept copy first, refreshed in the background. The evidence pictures: the kept
// copy first (a snapshot never changes), kept with the pages so they go at logout. Answers are not kept here:
// checklist.js keeps them in IndexedDB. Bump VERSION when this file's caching changes; old caches are dropped.
"use strict";

var VERSION = "v3";
var PAGES = "emc-checklist-pages-" + VERSION;
var STATIC = "emc-checklist-static-" + VERSION;
var CHECKLIST = /^\/applications\/\d+\/checklist(\.json)?$/;
var CHART = /^\/applications\/\d+\/evidence\/\d+\/charts\/[a-z]+\.(svg|png)$/;
var NETWORK_WAIT_MS = 8000;

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("emc-checklist-") === 0 && name !== PAGES && name !== STATIC;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function cacheFor(url) {
  if (url.origin !== self.location.origin) return null;
  if (url.pathname.indexOf("/static/") === 0) return STATIC;
  if (CHECKLIST.test(url.pathname) || CHART.test(url.pathname)) return PAGES;
  return null;
}

function kept(request) {
  return caches.open(PAGES).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (hit) {
      return hit || cache.match(request, { ignoreVary: true, ignoreSearch: true });
    });
  });
}

function networkFirst(request) {
  var network = fetch(request).then(function (response) {
    if (response.ok && response.type === "basic" && !response.redirected) {
      var copy = response.clone();
      return caches.open(PAGES).then(function (cache) { return cache.put(request, copy); })
        .then(function () { return response; }, function () { return response; });
    }
    if (response.status === 404 || response.status === 403) {
      // No longer the expert's to see: forget the kept copy.
      caches.open(PAGES).then(function (cache) { cache.delete(request, { ignoreVary: true }); });
    }
    if (response.status >= 500) {
      return kept(request).then(function (hit) { return hit || response; });
    }
    return response;
  });
  return new Promise(function (resolve, reject) {
    var settled = false;
    function answer(response) { if (!settled) { settled = true; resolve(response); } }
    var slow = setTimeout(function () {
      kept(request).then(function (hit) { if (hit) answer(hit); });
    }, NETWORK_WAIT_MS);
    network.then(function (response) {
      clearTimeout(slow);
      answer(response);
    }, function (error) {
      clearTimeout(slow);
      kept(request).then(function (hit) {
        if (hit) answer(hit);
        else if (!settled) { settled = true; reject(error); }
      });
    });
  });
}

function cacheFirst(request) {
  return caches.open(STATIC).then(function (cache) {
    return cache.match(request).then(function (hit) {
      var fresh = fetch(request).then(function (response) {
        if (response.ok && response.type === "basic") return cache.put(request, response.clone()).then(function () {
          return response;
        });
        return response;
      });
      if (hit) {
        fresh.catch(function () { return null; }); // refreshed for next time; offline it simply stays as it is
        return hit;
      }
      return fresh;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/logout") {
    // Someone else may use this tablet next: the kept pages go with the session.
    event.waitUntil(caches.delete(PAGES));
    return;
  }
  if (request.method !== "GET") return;
  var name = cacheFor(url);
  if (name === STATIC) event.respondWith(cacheFirst(request));
  else if (name === PAGES && CHART.test(url.pathname)) {
    event.respondWith(kept(request).then(function (hit) { return hit || networkFirst(request); }));
  }
  else if (name === PAGES) event.respondWith(networkFirst(request));
});

// The page asks for itself and its sheet to be kept: its first visit came before this worker was in charge.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "keep" || !Array.isArray(data.urls)) return;
  var port = event.ports && event.ports[0];
  event.waitUntil(
    Promise.all(data.urls.map(function (href) {
      var url = new URL(href, self.location.origin);
      var name = cacheFor(url);
      if (!name) return Promise.resolve(false);
      return fetch(url.href, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok || response.redirected) return false;
        return caches.open(name).then(function (cache) { return cache.put(url.href, response); })
          .then(function () { return true; });
      }).catch(function () { return false; });
    })).then(function (results) {
      if (port) port.postMessage({ kept: results.every(Boolean) });
    })
  );
});
