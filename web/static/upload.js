// Uploads with a progress bar. Without this script the form still works (a plain multipart POST).
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var input = form.querySelector('input[type="file"]');
  var box = document.getElementById("upload-progress");
  var bar = box.querySelector("progress");
  var percent = box.querySelector(".percent");
  var amount = box.querySelector(".amount");
  var cancel = document.getElementById("upload-cancel");
  var submit = document.getElementById("upload-submit");
  var errors = document.getElementById("upload-error");
  var token = form.querySelector('input[name="csrf_token"]');
  var xhr = null;

  function mb(bytes) { return (bytes / 1048576).toFixed(1) + " MB"; }

  function showErrors(messages) {
    errors.textContent = "";
    messages.forEach(function (text) {
      var p = document.createElement("p");
      p.textContent = text;
      errors.appendChild(p);
    });
  }

  // The answer names the page to show next; on the same page only the hash would change, so reload it.
  function go(target) {
    var url = new URL(target, window.location.href);
    if (url.pathname === window.location.pathname && url.search === window.location.search) {
      window.location.hash = url.hash;
      window.location.reload();
    } else {
      window.location.assign(url.href);
    }
  }

  function reset() {
    xhr = null;
    box.hidden = true;
    submit.disabled = false;
  }

  cancel.addEventListener("click", function () {
    if (xhr) { xhr.abort(); }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var file = input.files && input.files[0];
    if (!file) { showErrors([form.dataset.msgNoFile]); return; }
    if (file.size > Number(form.dataset.maxBytes)) { showErrors([form.dataset.msgTooLarge]); return; }
    showErrors([]);
    xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    if (token) xhr.setRequestHeader("X-CSRFToken", token.value);
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var done = Math.floor((e.loaded / e.total) * 100);
      bar.value = done;
      percent.textContent = done + "%";
      amount.textContent = mb(e.loaded) + " / " + mb(e.total);
      if (e.loaded === e.total) amount.textContent = form.dataset.msgProcessing;
    });
    xhr.addEventListener("load", function () {
      var answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (ignored) { answer = {}; }
      if (answer.redirect) { go(answer.redirect); return; }
      reset();
      showErrors((answer.errors || []).map(function (e) { return e.message; }).concat(
        answer.errors ? [] : [form.dataset.msgNetwork]));
    });
    xhr.addEventListener("error", function () { reset(); showErrors([form.dataset.msgNetwork]); });
    xhr.addEventListener("abort", function () { reset(); showErrors([form.dataset.msgCancelled]); });
    box.hidden = false;
    submit.disabled = true;
    bar.value = 0;
    percent.textContent = "0%";
    amount.textContent = "";
    xhr.send(new FormData(form));
  });
})();
