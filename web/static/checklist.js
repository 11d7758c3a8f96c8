// The expert's checklist on a tablet: every change is kept on the device first (IndexedDB), then synced.
//
// A change waits as a record carrying the revision it started from (base_revision) and when it was made. When
// there is a connection the waiting records go to /sync; saved ones are cleared; a conflict (the answer changed
// on the server meanwhile) stays beside its criterion until the expert keeps theirs or takes the saved one.
// Photos wait the same way, as Blobs, each named by a UUID made when it was taken.
(function () {
  "use strict";
  var root = document.getElementById("checklist");
  if (!root) return;

  var APP = root.dataset.applicationId;
  var SHEET = root.dataset.userId + ":" + APP; // records of one expert's sheet on a shared device
  var urls = {
    sheet: root.dataset.sheetUrl,
    sync: root.dataset.syncUrl,
    photos: root.dataset.photosUrl,
    photo: root.dataset.photoUrl,
    submit: root.dataset.submitUrl,
    sw: root.dataset.swUrl,
  };
  var token = root.dataset.csrfToken;
  var readOnly = root.dataset.readOnly === "true";
  // The sheet opens on the visit's day (Beijing time). A page kept offline since before that day unlocks itself on
  // the day by the device's date; the server refuses anything sent earlier anyway.
  var opensOn = root.dataset.opensOn || "";
  function todayInBeijing() {
    try {
      return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
    } catch (e) {
      return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
    }
  }
  var beforeVisitDay = !readOnly && opensOn !== "" && todayInBeijing() < opensOn;
  if (beforeVisitDay) readOnly = true;
  var RETRY_MS = 30000;
  var SYNC_DELAY_MS = 600;

  function msg(key) { return root.getAttribute("data-msg-" + key) || key; }
  var resultLabels = {};
  (root.dataset.resultLabels || "").split("|").forEach(function (pair) {
    var i = pair.indexOf("=");
    if (i > 0) resultLabels[pair.slice(0, i)] = pair.slice(i + 1);
  });

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // --- the device's store: IndexedDB, or memory when the browser has none ------------------------------------

  function memoryStore() {
    var stores = { answers: {}, photos: {}, sheets: {} };
    var keys = { answers: "key", photos: "client_id", sheets: "key" };
    return {
      kept: false,
      put: function (name, value) { stores[name][value[keys[name]]] = value; return Promise.resolve(); },
      remove: function (name, key) { delete stores[name][key]; return Promise.resolve(); },
      get: function (name, key) { return Promise.resolve(stores[name][key]); },
      list: function (name) {
        var out = Object.keys(stores[name]).map(function (k) { return stores[name][k]; });
        return Promise.resolve(out.filter(function (r) { return r.sheet === SHEET; }));
      },
    };
  }

  function indexedStore() {
    var opened = new Promise(function (resolve, reject) {
      var request = indexedDB.open("emc-checklist", 1);
      request.onupgradeneeded = function () {
        var db = request.result;
        db.createObjectStore("answers", { keyPath: "key" }).createIndex("sheet", "sheet");
        db.createObjectStore("photos", { keyPath: "client_id" }).createIndex("sheet", "sheet");
        db.createObjectStore("sheets", { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
      request.onblocked = function () { reject(new Error("blocked")); };
    });
    function run(name, mode, work) {
      return opened.then(function (db) {
        return new Promise(function (resolve, reject) {
          var tx = db.transaction(name, mode);
          var request = work(tx.objectStore(name));
          tx.oncomplete = function () { resolve(request ? request.result : undefined); };
          tx.onerror = tx.onabort = function () { reject(tx.error); };
        });
      });
    }
    return {
      kept: true,
      ready: opened,
      put: function (name, value) { return run(name, "readwrite", function (s) { return s.put(value); }); },
      remove: function (name, key) { return run(name, "readwrite", function (s) { return s.delete(key); }); },
      get: function (name, key) { return run(name, "readonly", function (s) { return s.get(key); }); },
      list: function (name) {
        return run(name, "readonly", function (s) { return s.index("sheet").getAll(SHEET); });
      },
    };
  }

  var store = memoryStore();
  var storeReady = Promise.resolve();
  if (window.indexedDB) {
    var idb = indexedStore();
    storeReady = idb.ready.then(
      function () { store = idb; },
      function () { showMessage(msg("no-storage")); }
    );
  } else {
    storeReady = Promise.resolve().then(function () { showMessage(msg("no-storage")); });
  }

  // Writes in flight: the status line says "saving…" until every one of them is on the device.
  var writing = 0;
  function keep(work) {
    writing += 1;
    renderStatus();
    return storeReady.then(work).then(
      function (value) { writing -= 1; renderStatus(); return value; },
      function () { writing -= 1; renderStatus(); showMessage(msg("no-storage")); return null; }
    );
  }
  function put(name, value) { return keep(function () { return store.put(name, value); }); }
  function remove(name, key) { return keep(function () { return store.remove(name, key); }); }

  // --- the criteria on the page ------------------------------------------------------------------------------

  var criteria = {};
  var order = [];
  var answers = {}; // criterion -> the record waiting on the device
  var photos = {}; // client_id -> a photo waiting on the device
  var kept = {}; // criterion -> photos the server keeps (from the last sheet)
  var objectUrls = {};
  var loaded = false;
  var early = {}; // criteria changed before the device's records were read: what is on screen wins

  Array.prototype.forEach.call(root.querySelectorAll(".criterion"), function (el) {
    var id = el.dataset.criterion;
    var c = {
      id: id,
      el: el,
      radios: el.querySelectorAll(".choice-input"),
      score: el.querySelector(".score-input"),
      scoreError: el.querySelector(".score-error, [id^='score-error']"),
      note: el.querySelector(".note-input"),
      photo: el.querySelector(".photo-input"),
      photoList: el.querySelector(".photo-list"),
      state: el.querySelector(".sync-state"),
      conflict: el.querySelector(".conflict"),
      maxScore: el.dataset.maxScore === "" ? null : Number(el.dataset.maxScore),
      revision: Number(el.dataset.revision || 0),
    };
    c.server = valuesOf(c);
    kept[id] = Array.prototype.map.call(el.querySelectorAll(".photo.kept"), function (li) {
      return {
        id: Number(li.dataset.photoId),
        client_id: li.dataset.clientId,
        taken_at: li.dataset.takenAt || null,
        latitude: li.dataset.located === "true" ? 0 : null,
      };
    });
    criteria[id] = c;
    order.push(id);
  });

  function valuesOf(c) {
    var result = null;
    Array.prototype.forEach.call(c.radios, function (r) { if (r.checked) result = r.value; });
    var score = c.score.value.trim();
    return { result: result, score: score === "" ? null : score, note: c.note.value };
  }

  function setValues(c, v) {
    Array.prototype.forEach.call(c.radios, function (r) { r.checked = r.value === v.result; });
    c.score.value = v.score === null || v.score === undefined ? "" : String(v.score);
    c.note.value = v.note || "";
  }

  function sameValues(a, b) {
    var sa = a.score === null || a.score === undefined || a.score === "" ? null : Number(a.score);
    var sb = b.score === null || b.score === undefined || b.score === "" ? null : Number(b.score);
    return (a.result || null) === (b.result || null) && sa === sb && (a.note || "").trim() === (b.note || "").trim();
  }

  function scoreProblem(c, score) {
    if (c.score.validity && c.score.validity.badInput) return true; // typed, but not a number ("1,5")
    if (score === null) return false;
    if (!/^\d+(\.\d{1,2})?$/.test(score)) return true;
    return c.maxScore !== null && Number(score) > c.maxScore;
  }

  function describe(v) {
    var parts = [v.result ? resultLabels[v.result] || v.result : msg("no-answer")];
    if (v.score !== null && v.score !== undefined && v.score !== "") parts.push(msg("score") + " " + v.score);
    if (v.note) parts.push("“" + v.note + "”");
    return parts.join(" · ");
  }

  // --- rendering ---------------------------------------------------------------------------------------------

  function renderCriterion(c) {
    var record = answers[c.id];
    var status = record ? record.status : "";
    c.el.dataset.sync = status;
    c.state.textContent = status === "pending" ? msg("pending") : status === "invalid"
      ? msg("invalid") + (record.error ? ": " + record.error : "") : status === "conflict" ? msg("in-conflict") : "";
    c.conflict.hidden = status !== "conflict";
    // Rebuilt only when it changes, so a sync in the background never swaps a button under a finger.
    var shown = status === "conflict" ? JSON.stringify([record.result, record.score, record.note, record.theirs]) : "";
    if (shown !== c.conflictShown) {
      c.conflictShown = shown;
      c.conflict.textContent = "";
      if (shown) renderConflict(c, record);
    }
    var badScore = scoreProblem(c, valuesOf(c).score);
    c.scoreError.hidden = !badScore;
    c.scoreError.textContent = badScore ? msg("score-invalid") : "";
    if (badScore) c.score.setAttribute("aria-invalid", "true"); else c.score.removeAttribute("aria-invalid");
  }

  function renderConflict(c, record) {
    var title = document.createElement("p");
    title.textContent = msg("conflict-title");
    var list = document.createElement("dl");
    [["yours", record], ["theirs", record.theirs]].forEach(function (row) {
      var dt = document.createElement("dt");
      dt.textContent = msg(row[0]);
      var dd = document.createElement("dd");
      dd.className = row[0];
      dd.textContent = describe(row[1]);
      list.appendChild(dt);
      list.appendChild(dd);
    });
    var choose = document.createElement("div");
    choose.className = "choose";
    var mine = document.createElement("button");
    mine.type = "button";
    mine.className = "keep-mine primary";
    mine.textContent = msg("keep-mine");
    mine.addEventListener("click", function () { keepMine(c); });
    var theirs = document.createElement("button");
    theirs.type = "button";
    theirs.className = "take-theirs";
    theirs.textContent = msg("take-theirs");
    theirs.addEventListener("click", function () { takeTheirs(c); });
    choose.appendChild(mine);
    choose.appendChild(theirs);
    c.conflict.appendChild(title);
    c.conflict.appendChild(list);
    c.conflict.appendChild(choose);
  }

  function renderPhotos(c) {
    var shown = JSON.stringify([
      (kept[c.id] || []).map(function (p) { return p.id; }),
      Object.keys(photos).filter(function (k) { return photos[k].criterion === c.id; }).map(function (k) {
        return [k, photos[k].status, photos[k].latitude, photos[k].error];
      }),
      readOnly,
    ]);
    if (shown === c.photosShown) return;
    c.photosShown = shown;
    c.photoList.textContent = "";
    (kept[c.id] || []).forEach(function (p) {
      c.photoList.appendChild(photoItem(urls.photo.replace(/\/0$/, "/" + p.id), p, "kept", msg("photo-kept")));
    });
    Object.keys(photos).forEach(function (key) {
      var p = photos[key];
      if (p.criterion !== c.id) return;
      if (!objectUrls[key]) objectUrls[key] = URL.createObjectURL(p.blob);
      var failed = p.status === "failed";
      var item = photoItem(objectUrls[key], p, failed ? "failed" : "waiting",
        failed ? msg("photo-failed") + (p.error ? ": " + p.error : "") : msg("photo-waiting"));
      if (!readOnly) {
        var remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = msg("photo-remove");
        remove.addEventListener("click", function () { removePhoto(key); });
        item.appendChild(remove);
      }
      c.photoList.appendChild(item);
    });
  }

  function photoItem(src, p, kind, state) {
    var li = document.createElement("li");
    li.className = "photo " + kind;
    li.dataset.clientId = p.client_id;
    var img = document.createElement("img");
    img.src = src;
    img.alt = "";
    var caption = document.createElement("span");
    caption.className = "photo-caption";
    var when = p.taken_at ? new Date(p.taken_at).toLocaleString(root.dataset.lang === "en" ? "en-GB" : "zh-CN") : "";
    var where = p.latitude !== null && p.latitude !== undefined ? msg("photo-located") : msg("photo-no-location");
    caption.textContent = [when, where, state].filter(Boolean).join(" · ");
    li.appendChild(img);
    li.appendChild(caption);
    return li;
  }

  var lastSynced = null;
  var syncing = false;
  var blocked = null; // a refusal that retrying cannot cure (signed sheet, login needed)

  function counts() {
    var waiting = 0;
    var conflicts = 0;
    Object.keys(answers).forEach(function (k) {
      waiting += 1;
      if (answers[k].status === "conflict") conflicts += 1;
    });
    return { waiting: waiting + Object.keys(photos).length, conflicts: conflicts };
  }

  function renderStatus() {
    var box = document.getElementById("sync-status");
    var online = navigator.onLine;
    box.dataset.net = !online ? "offline" : syncing ? "syncing" : "online";
    document.getElementById("net-label").textContent = !online ? msg("offline") : syncing ? msg("syncing") : msg("online");
    var n = counts();
    document.getElementById("pending-count").textContent = String(n.waiting);
    document.getElementById("conflict-count").textContent = String(n.conflicts);
    document.getElementById("conflict-line").hidden = n.conflicts === 0;
    document.getElementById("last-synced").textContent = lastSynced
      ? new Date(lastSynced).toLocaleString(root.dataset.lang === "en" ? "en-GB" : "zh-CN") : msg("never");
    if (lastSynced) document.getElementById("last-synced").setAttribute("datetime", lastSynced);
    box.dataset.local = writing > 0 ? "saving" : "saved";
    document.getElementById("local-label").textContent = writing > 0 ? msg("saving") : msg("saved");
  }

  function renderProgress() {
    var done = order.filter(function (id) { return valuesOf(criteria[id]).result; }).length;
    document.getElementById("progress-done").textContent = String(done);
    document.getElementById("progress-bar").value = done;
  }

  function showMessage(text) {
    var box = document.getElementById("sync-message");
    box.textContent = text || "";
    box.hidden = !text;
  }

  function renderAll() {
    order.forEach(function (id) { renderCriterion(criteria[id]); renderPhotos(criteria[id]); });
    renderStatus();
    renderProgress();
  }

  // --- changes on the device ---------------------------------------------------------------------------------

  function edited(c) {
    if (readOnly) return;
    if (!loaded) { early[c.id] = true; return; }
    var v = valuesOf(c);
    var record = answers[c.id];
    var invalid = scoreProblem(c, v.score);
    if (!record && sameValues(v, c.server)) { renderCriterion(c); renderProgress(); return; }
    if (record && record.status !== "conflict" && sameValues(v, c.server) && !invalid) {
      // Back to what the server has: nothing to send.
      delete answers[c.id];
      remove("answers", record.key);
    } else {
      record = record || { key: SHEET + ":" + c.id, sheet: SHEET, criterion: c.id, base_revision: c.revision };
      record.result = v.result;
      record.score = v.score;
      record.note = v.note;
      record.changed_at = new Date().toISOString();
      record.stamp = uuid();
      if (record.status !== "conflict") record.status = invalid ? "invalid" : "pending";
      if (!invalid) delete record.error;
      answers[c.id] = record;
      put("answers", record).then(function () { if (!invalid) soon(); });
    }
    renderCriterion(c);
    renderProgress();
    renderStatus();
  }

  function keepMine(c) {
    var record = answers[c.id];
    if (!record || !record.theirs) return;
    // Sent again on top of the saved answer: the new base is the revision the expert has now seen.
    record.base_revision = record.theirs.revision;
    c.revision = Math.max(c.revision, record.theirs.revision);
    c.server = { result: record.theirs.result, score: record.theirs.score, note: record.theirs.note };
    delete record.theirs;
    record.status = scoreProblem(c, record.score) ? "invalid" : "pending";
    record.stamp = uuid();
    put("answers", record).then(soon);
    renderCriterion(c);
    renderStatus();
  }

  function takeTheirs(c) {
    var record = answers[c.id];
    if (!record || !record.theirs) return;
    var theirs = record.theirs;
    c.revision = Math.max(c.revision, theirs.revision);
    c.server = { result: theirs.result, score: theirs.score, note: theirs.note };
    setValues(c, c.server);
    delete answers[c.id];
    remove("answers", record.key);
    renderCriterion(c);
    renderProgress();
    renderStatus();
  }

  function located(record) {
    // Where the device says it is, if it will say within a few seconds; the photo is kept either way.
    return new Promise(function (resolve) {
      if (!navigator.geolocation) { resolve(record); return; }
      var done = false;
      function finish() { if (!done) { done = true; resolve(record); } }
      setTimeout(finish, 10000);
      navigator.geolocation.getCurrentPosition(function (pos) {
        record.latitude = pos.coords.latitude;
        record.longitude = pos.coords.longitude;
        record.accuracy_m = pos.coords.accuracy;
        finish();
      }, finish, { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
    });
  }

  function photoTaken(c, file) {
    var record = {
      client_id: uuid(),
      sheet: SHEET,
      criterion: c.id,
      blob: file,
      name: file.name || "photo.jpg",
      taken_at: new Date().toISOString(),
      latitude: null,
      longitude: null,
      accuracy_m: null,
      status: "locating",
    };
    photos[record.client_id] = record;
    put("photos", record)
      .then(function () { return located(record); })
      .then(function () {
        if (!photos[record.client_id]) return null; // removed meanwhile
        record.status = "pending";
        return put("photos", record);
      })
      .then(soon);
    renderPhotos(c);
    renderStatus();
  }

  function removePhoto(key) {
    var p = photos[key];
    if (!p) return;
    delete photos[key];
    if (objectUrls[key]) { URL.revokeObjectURL(objectUrls[key]); delete objectUrls[key]; }
    remove("photos", key);
    renderPhotos(criteria[p.criterion]);
    renderStatus();
  }

  order.forEach(function (id) {
    var c = criteria[id];
    Array.prototype.forEach.call(c.radios, function (r) { r.addEventListener("change", function () { edited(c); }); });
    c.score.addEventListener("input", function () { edited(c); });
    c.note.addEventListener("input", function () { edited(c); });
    if (c.photo) {
      c.photo.addEventListener("change", function () {
        Array.prototype.forEach.call(c.photo.files || [], function (file) { photoTaken(c, file); });
        c.photo.value = "";
      });
    }
  });

  // --- the server's sheet ------------------------------------------------------------------------------------

  function applySheet(sheet) {
    // A revision only rises, so the higher one is the newer server answer whichever copy it came from.
    sheet.categories.forEach(function (cat) {
      cat.criteria.forEach(function (s) {
        var c = criteria[s.id];
        if (!c) return;
        kept[s.id] = s.photos || [];
        if (s.revision < c.revision) return;
        c.revision = s.revision;
        c.server = { result: s.result, score: s.score, note: s.note };
        if (!answers[s.id]) setValues(c, c.server);
      });
    });
    if (sheet.submitted_at && root.dataset.submitted !== "true") lockSubmitted();
  }

  function lockSubmitted() {
    // Signed (here or on another device): from now on the page can only be read.
    readOnly = true;
    root.dataset.submitted = "true";
    root.dataset.readOnly = "true";
    Array.prototype.forEach.call(root.querySelectorAll("input, textarea, .sign button"), function (el) {
      el.disabled = true;
    });
    Array.prototype.forEach.call(root.querySelectorAll(".photo-button"), function (el) { el.hidden = true; });
    if (pad) pad.enable(false);
    var note = document.getElementById("submitted-note");
    if (!note) {
      note = document.createElement("div");
      note.id = "submitted-note";
      note.className = "flash flash-success";
      note.textContent = msg("submitted");
      var line = root.querySelector(".progress-line");
      line.parentNode.insertBefore(note, line.nextSibling);
    }
  }

  function keepSheet(sheet) {
    lastSynced = new Date().toISOString();
    return put("sheets", { key: SHEET, sheet: sheet, synced_at: lastSynced });
  }

  // --- sync --------------------------------------------------------------------------------------------------

  var timer = null;
  function soon() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () { timer = null; sync(); }, SYNC_DELAY_MS);
  }

  function send(url, options) {
    options.headers = options.headers || {};
    options.headers["X-CSRFToken"] = token;
    options.headers.Accept = "application/json";
    options.credentials = "same-origin";
    return fetch(url, options).then(function (response) {
      return response.json().then(
        function (body) { return { status: response.status, body: body }; },
        function () { return { status: response.status, body: {} }; }
      );
    });
  }

  function refreshToken() {
    return fetch(urls.sheet, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      var fresh = response.headers.get("X-CSRFToken");
      if (fresh) token = fresh;
      return response.ok ? response.json().then(function (sheet) { applySheet(sheet); return keepSheet(sheet); }) : null;
    });
  }

  // An answer the server will not take as it is: 401 and 409 stop syncing; a 400 CSRF refusal is retried once.
  function refused(answer, retry) {
    if (answer.status === 400 && answer.body.code === "csrf" && retry) {
      return refreshToken().then(retry);
    }
    if (answer.status === 401) {
      blocked = msg("login");
    } else if (answer.status === 409 || answer.status === 404) {
      blocked = (answer.body.title ? answer.body.title + ": " : "") + msg("blocked");
    } else {
      showMessage(msg("failed"));
    }
    if (blocked) showMessage(blocked);
    return null;
  }

  function syncAnswers(retried) {
    var sent = {};
    var results = [];
    order.forEach(function (id) {
      var r = answers[id];
      if (!r || r.status !== "pending") return;
      sent[id] = r.stamp;
      results.push({
        criterion: id,
        result: r.result,
        score: r.score,
        note: r.note,
        base_revision: r.base_revision,
        changed_at: r.changed_at,
      });
    });
    if (!results.length) return Promise.resolve(false);
    return send(urls.sync, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ results: results }),
    }).then(function (answer) {
      if (answer.status === 200) return settled(answer.body, sent).then(function () { return true; });
      if (answer.status === 422 && (answer.body.errors || []).length) {
        // Set the refused criteria aside (shown beside them) and send the others again.
        var marked = false;
        answer.body.errors.forEach(function (e) {
          var r = e.criterion && answers[e.criterion];
          if (!r || r.status !== "pending") return;
          r.status = "invalid";
          r.error = e.message;
          marked = true;
          put("answers", r);
          renderCriterion(criteria[e.criterion]);
        });
        if (marked) return syncAnswers(retried);
        showMessage(answer.body.errors.map(function (e) { return e.message; }).join(" "));
        return false;
      }
      return refused(answer, retried ? null : function () { return syncAnswers(true); });
    });
  }

  function settled(body, sent) {
    var writes = [];
    applySheet(body.sheet);
    var revisions = {};
    body.sheet.categories.forEach(function (cat) {
      cat.criteria.forEach(function (s) { revisions[s.id] = s.revision; });
    });
    body.saved.concat(body.unchanged).forEach(function (id) {
      var r = answers[id];
      if (!r) return;
      if (r.stamp === sent[id]) {
        delete answers[id];
        writes.push(remove("answers", r.key));
      } else {
        // Changed again while this was on its way: the newer change now starts from the saved revision.
        r.base_revision = revisions[id];
        writes.push(put("answers", r));
      }
    });
    body.conflicts.forEach(function (conflict) {
      var r = answers[conflict.criterion];
      if (!r) return;
      r.status = "conflict";
      r.theirs = conflict.theirs;
      writes.push(put("answers", r));
    });
    writes.push(keepSheet(body.sheet));
    renderAll();
    return Promise.all(writes);
  }

  function syncPhotos(retried) {
    var next = null;
    Object.keys(photos).forEach(function (key) {
      if (!next && photos[key].status === "pending") next = photos[key];
    });
    if (!next) return Promise.resolve(false);
    var p = next;
    var form = new FormData();
    form.append("criterion", p.criterion);
    form.append("client_id", p.client_id);
    form.append("taken_at", p.taken_at);
    ["latitude", "longitude", "accuracy_m"].forEach(function (name) {
      if (p[name] !== null && p[name] !== undefined) form.append(name, String(p[name]));
    });
    form.append("photo", p.blob, p.name);
    return send(urls.photos, { method: "POST", body: form }).then(function (answer) {
      if (answer.status === 201) {
        delete photos[p.client_id];
        if (objectUrls[p.client_id]) { URL.revokeObjectURL(objectUrls[p.client_id]); delete objectUrls[p.client_id]; }
        kept[p.criterion] = (kept[p.criterion] || []).concat([answer.body]);
        return remove("photos", p.client_id).then(function () {
          renderPhotos(criteria[p.criterion]);
          return syncPhotos(retried);
        });
      }
      if (answer.status === 422 || answer.status === 413) {
        p.status = "failed";
        p.error = (answer.body.errors || []).map(function (e) { return e.message; }).join(" ");
        return put("photos", p).then(function () {
          renderPhotos(criteria[p.criterion]);
          return syncPhotos(retried);
        });
      }
      return refused(answer, retried ? null : function () { return syncPhotos(true); });
    });
  }

  var again = false;
  function sync() {
    if (blocked || readOnly) { renderStatus(); return Promise.resolve(); }
    if (!navigator.onLine) { renderStatus(); return Promise.resolve(); }
    if (syncing) { again = true; return Promise.resolve(); }
    syncing = true;
    again = false;
    renderStatus();
    return storeReady
      .then(function () { return syncAnswers(false); })
      .then(function () { return syncPhotos(false); })
      .then(function () { if (!blocked) showMessage(""); }, function () { /* the network went: try again later */ })
      .then(function () {
        syncing = false;
        renderAll();
        if (again) return sync();
        return null;
      });
  }

  // --- start: the server's page, then the last sheet seen, then what waits on the device ---------------------

  function loadLocal() {
    return storeReady
      .then(function () { return store.get("sheets", SHEET); })
      .then(function (last) {
        if (last) {
          lastSynced = last.synced_at;
          applySheet(last.sheet);
        }
        return store.list("answers");
      })
      .then(function (records) {
        (records || []).forEach(function (r) {
          var c = criteria[r.criterion];
          if (!c) return;
          answers[r.criterion] = r;
          if (!early[r.criterion]) setValues(c, r); // the device's answer over the server's
          // Held back only for an unreadable score, which did not survive the reload: send it now.
          if (r.status === "invalid" && !r.error && !scoreProblem(c, r.score)) r.status = "pending";
        });
        return store.list("photos");
      })
      .then(function (records) {
        (records || []).forEach(function (p) {
          if (!criteria[p.criterion]) return;
          if (p.status === "locating") p.status = "pending"; // the page closed while it was locating
          photos[p.client_id] = p;
        });
      });
  }

  function fetchSheet() {
    if (!navigator.onLine) return Promise.resolve();
    return fetch(urls.sheet, { credentials: "same-origin" })
      .then(function (response) {
        var fresh = response.headers.get("X-CSRFToken");
        if (fresh) token = fresh;
        if (!response.ok) return null;
        return response.json().then(function (sheet) { applySheet(sheet); return keepSheet(sheet); });
      })
      .catch(function () { return null; });
  }

  function registerWorker() {
    if (!("serviceWorker" in navigator) || !urls.sw) return;
    navigator.serviceWorker.register(urls.sw, { scope: "/" })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        var worker = registration.active;
        if (!worker) return;
        // Keep this page and its sheet for a reload without a connection (the first visit was not served by the
        // worker, so it has not seen them yet).
        var page = window.location.href.split("#")[0];
        var channel = new MessageChannel();
        channel.port1.onmessage = function (event) {
          if (event.data && event.data.kept) {
            document.getElementById("offline-ready").hidden = false;
            root.dataset.offlineReady = "true";
          }
        };
        var assets = (root.dataset.staticUrls || "").split(" ").filter(Boolean);
        // The evidence pictures beside the criteria: frozen with their snapshot, kept for the visit offline.
        var charts = Array.prototype.map.call(document.querySelectorAll("img.evidence-chart"), function (img) {
          return img.getAttribute("src");
        });
        worker.postMessage({ type: "keep", urls: [page, urls.sheet].concat(assets, charts) }, [channel.port2]);
      })
      .catch(function () { /* no worker: the page still works online */ });
  }

  window.addEventListener("online", function () { renderStatus(); sync(); });
  window.addEventListener("offline", renderStatus);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) sync(); });
  setInterval(function () { if (counts().waiting) sync(); else renderStatus(); }, RETRY_MS);

  // --- signature and submission ------------------------------------------------------------------------------

  var canvas = document.getElementById("signature-pad");
  var pad = canvas && window.EmcSignaturePad ? window.EmcSignaturePad(canvas) : null;
  var visitNote = document.getElementById("before-visit-note");
  if (visitNote) visitNote.hidden = !beforeVisitDay;
  if (beforeVisitDay) {
    Array.prototype.forEach.call(root.querySelectorAll("input, textarea, .sign button"), function (el) {
      el.disabled = true;
    });
    Array.prototype.forEach.call(root.querySelectorAll(".photo-button"), function (el) { el.hidden = true; });
    if (pad) pad.enable(false);
  }
  var clearButton = document.getElementById("signature-clear");
  var submitButton = document.getElementById("submit-sheet");
  var submitErrors = document.getElementById("submit-errors");

  function showSubmitErrors(messages) {
    submitErrors.textContent = "";
    messages.forEach(function (text) {
      var p = document.createElement("p");
      p.textContent = text;
      submitErrors.appendChild(p);
    });
  }

  function markMissing(ids) {
    order.forEach(function (id) { criteria[id].el.classList.toggle("is-missing", ids.indexOf(id) >= 0); });
    if (ids.length) criteria[ids[0]].el.scrollIntoView({ block: "center" });
  }

  if (clearButton && pad) clearButton.addEventListener("click", function () { pad.clear(); });
  if (submitButton && pad) {
    submitButton.addEventListener("click", function () {
      showSubmitErrors([]);
      if (!navigator.onLine) { showSubmitErrors([msg("submit-offline")]); return; }
      submitButton.disabled = true;
      sync().then(function () {
        var n = counts();
        if (n.waiting) { showSubmitErrors([msg("submit-pending")]); return null; }
        var missing = order.filter(function (id) { return !valuesOf(criteria[id]).result; });
        var problems = [];
        if (missing.length) problems.push(msg("submit-missing").replace("{criteria}", missing.join("、")));
        if (pad.isEmpty()) problems.push(msg("submit-no-signature"));
        markMissing(missing);
        if (problems.length) { showSubmitErrors(problems); return null; }
        var body = {
          signature_png_base64: pad.toPngBase64(),
          signed_name: document.getElementById("signed-name").value,
          confirm: document.getElementById("confirm").checked,
        };
        var post = function () {
          return send(urls.submit, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(body),
          });
        };
        return post().then(function handle(answer, again) {
          if (answer.status === 200) {
            showSubmitErrors([]);
            lockSubmitted();
            return keepSheet(answer.body);
          }
          if (answer.status === 400 && answer.body.code === "csrf" && !again) {
            return refreshToken().then(post).then(function (a) { return handle(a, true); });
          }
          var errors = answer.body.errors || [];
          markMissing(errors.map(function (e) { return e.criterion; }).filter(Boolean));
          showSubmitErrors(errors.length ? errors.map(function (e) { return e.message; })
            : [answer.body.title || answer.body.detail || msg("failed")]);
          return null;
        });
      }).catch(function () {
        showSubmitErrors([msg("submit-offline")]);
      }).then(function () { submitButton.disabled = false; });
    });
  }

  loadLocal()
    .catch(function () { return null; })
    .then(function () {
      loaded = true;
      Object.keys(early).forEach(function (id) { edited(criteria[id]); });
      renderAll();
      root.dataset.ready = "true";
      return fetchSheet();
    })
    .then(function () {
      renderAll();
      registerWorker();
      return sync();
    });
  renderStatus();
})();
