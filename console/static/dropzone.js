// The import form's drop zone: a file dropped anywhere on it becomes the file input's file, and
// the chosen file's name is announced. Served by the console itself (CSP 'self', no inline script);
// without it the plain file input still works.
(function () {
  "use strict";
  function setup(zone) {
    var input = zone.querySelector("input[type=file]");
    var chosen = zone.querySelector("[data-dropzone-name]");
    if (!input) { return; }
    function show() {
      if (chosen) {
        chosen.textContent = input.files && input.files.length ? "Archivo elegido: " + input.files[0].name : "";
      }
    }
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "dragend"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        if (event.target === zone) { zone.classList.remove("dragging"); }
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("dragging");
      var files = event.dataTransfer && event.dataTransfer.files;
      if (files && files.length) {
        input.files = files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
    input.addEventListener("change", show);
    show();
  }
  function init() { document.querySelectorAll("[data-dropzone]").forEach(setup); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
