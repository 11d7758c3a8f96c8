// A signature pad on a <canvas>: pointer events (finger, stylus, mouse), exported as a PNG.
(function () {
  "use strict";

  function SignaturePad(canvas) {
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var empty = true;
    var last = null;
    var enabled = true;

    function size() {
      // The bitmap matches the box's pixels, so strokes are sharp on high-density screens.
      var ratio = window.devicePixelRatio || 1;
      var rect = canvas.getBoundingClientRect();
      if (!rect.width || !rect.height) return;
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      paper();
    }

    function paper() {
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.strokeStyle = "#111827";
      ctx.fillStyle = "#111827";
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.lineWidth = 2.5 * (window.devicePixelRatio || 1);
    }

    function at(event) {
      var rect = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - rect.left) * (canvas.width / rect.width),
        y: (event.clientY - rect.top) * (canvas.height / rect.height),
      };
    }

    function dot(p) {
      ctx.beginPath();
      ctx.arc(p.x, p.y, ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.fill();
    }

    function line(p) {
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
      empty = false;
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (!enabled || (event.pointerType === "mouse" && event.button !== 0)) return;
      event.preventDefault();
      drawing = true;
      if (canvas.setPointerCapture) canvas.setPointerCapture(event.pointerId);
      last = at(event);
      dot(last);
      empty = false;
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      event.preventDefault();
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      if (!events.length) events = [event];
      events.forEach(function (e) { line(at(e)); });
    });
    function stop() { drawing = false; last = null; }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    canvas.addEventListener("lostpointercapture", stop);

    // A new box size (a tablet turned) would stretch the strokes; start over only while nothing is drawn.
    window.addEventListener("resize", function () { if (empty) size(); });
    size();

    return {
      isEmpty: function () { return empty; },
      clear: function () { empty = true; paper(); },
      enable: function (on) { enabled = on; },
      toPngBase64: function () { return canvas.toDataURL("image/png").split(",")[1]; },
    };
  }

  window.EmcSignaturePad = SignaturePad;
})();
