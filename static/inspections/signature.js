// Signature pads: draw with finger, stylus or mouse on a <canvas>; the PNG (data URL) goes into
// the hidden input named by data-target when the form is submitted. No inline script (strict CSP).
(function () {
  "use strict";

  function setup(canvas) {
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - rect.left) * (canvas.width / rect.width),
        y: (event.clientY - rect.top) * (canvas.height / rect.height),
      };
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      var p = point(event);
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      ctx.lineTo(p.x + 0.1, p.y + 0.1);
      ctx.stroke();
      drawn = true;
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var p = point(event);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      event.preventDefault();
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () { drawing = false; });
    });
    canvas.signature = {
      clear: function () { ctx.clearRect(0, 0, canvas.width, canvas.height); drawn = false; },
      value: function () { return drawn ? canvas.toDataURL("image/png") : ""; },
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var pads = document.querySelectorAll("canvas.signature-pad");
    pads.forEach(setup);
    document.querySelectorAll(".signature-clear").forEach(function (button) {
      button.addEventListener("click", function () {
        document.getElementById(button.dataset.pad).signature.clear();
      });
    });
    var form = document.getElementById("sign-form");
    if (form) {
      form.addEventListener("submit", function () {
        pads.forEach(function (canvas) {
          document.getElementById(canvas.dataset.target).value = canvas.signature.value();
        });
      });
    }
  });
})();
