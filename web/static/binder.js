// The binder card: poll the build's status until it is done or failed, showing each attachment as it is bound.
(function () {
  "use strict";
  const box = document.getElementById("binder-build");
  if (!box) return;
  const bar = document.getElementById("binder-progress");
  const state = document.getElementById("binder-state");
  const link = document.getElementById("binder-download");
  function show(s) {
    bar.max = Math.max(s.total, 1);
    bar.value = s.done;
    const template = state.dataset["msg" + s.status.charAt(0).toUpperCase() + s.status.slice(1)] || "";
    state.textContent = template.replace("{done}", s.done).replace("{total}", s.total);
    if (s.download) { link.href = s.download; link.hidden = false; }
  }
  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) return;
        show(s);
        if (s.status === "queued" || s.status === "building") setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  if (box.dataset.status === "queued" || box.dataset.status === "building") poll();
})();
