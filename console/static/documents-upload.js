// «Subir documentos»: each chosen file goes on its own request with its upload progress, then its
// reading is polled (once a second) until it ends, with a link to the result. Without this script
// the form still posts every file at once. Served by the console; the CSP allows no inline script.
(function () {
  "use strict";
  var PARALLEL = 2;
  var POLL_MS = 1000;
  var STATUS = { queued: "en cola", processing: "leyendo", retrying: "reintentando" };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function item(list, file, index) {
    var li = el("li", "upload-item");
    li.dataset.file = file.name;
    var name = el("span", "name", file.name);
    var bar = el("progress");
    bar.max = 100; bar.value = 0;
    bar.id = "progreso-" + index;
    bar.setAttribute("aria-label", "Progreso de " + file.name);
    var state = el("span", "state", " subiendo 0 %");
    li.append(name, el("br"), bar, state);
    list.append(li);
    return { li: li, bar: bar, state: state };
  }

  function fail(row, message) {
    row.li.classList.add("failed");
    row.state.textContent = " no se ha podido";
    var p = el("p", "error", message);
    p.setAttribute("role", "alert");
    row.li.append(p);
  }

  function follow(row, statusUrl, done) {
    fetch(statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.redirected || response.status === 401) { window.location.assign("/login"); return null; }
        return response.json();
      })
      .then(function (job) {
        if (!job) return;
        row.bar.value = job.progress;
        if (job.active) {
          row.state.textContent = " " + (STATUS[job.status] || job.status) + " " + job.progress + " %";
          setTimeout(function () { follow(row, statusUrl, done); }, POLL_MS);
          return;
        }
        if (job.status === "completed") {
          row.li.classList.add("done");
          row.state.textContent = job.duplicate ? " ya estaba archivado · " : job.attached ? " leído y archivado · "
            : job.candidates ? " leído: elige la mascota · " : " leído: falta la mascota · ";
          var link = el("a", "", "Ver el documento");
          link.href = job.document_url;
          row.state.append(link);
        } else {
          fail(row, job.error || "La lectura ha fallado.");
        }
        done();
      })
      .catch(function () { fail(row, "Se ha perdido la conexión con la consola."); done(); });
  }

  function send(form, file, row, done) {
    var data = new FormData();
    data.append("csrf_token", form.elements.csrf_token.value);
    if (form.elements.mascota_id) data.append("mascota_id", form.elements.mascota_id.value);
    data.append("archivos", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (event) {
      if (!event.lengthComputable) return;
      var percent = Math.round(100 * event.loaded / event.total);
      row.bar.value = percent;
      row.state.textContent = " subiendo " + percent + " %";
    };
    xhr.onload = function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status === 202 && body && body.status_url) {
        row.bar.value = 0;
        row.state.textContent = " en cola";
        var link = el("a", "visually-hidden", "seguir " + file.name);
        link.href = body.url;
        row.li.append(link);
        follow(row, body.status_url, done);
      } else if (xhr.responseURL && xhr.responseURL.indexOf("/login") !== -1) {
        window.location.assign(xhr.responseURL);
      } else {
        fail(row, (body && body.error) || "No se ha podido subir (error " + xhr.status + ").");
        done();
      }
    };
    xhr.onerror = function () { fail(row, "Se ha perdido la conexión al subirlo."); done(); };
    xhr.send(data);
  }

  function start() {
    var form = document.getElementById("subir-documentos");
    if (!form) return;
    form.addEventListener("submit", function (event) {
      var files = Array.prototype.slice.call(form.elements.archivos.files);
      if (!files.length) return;
      event.preventDefault();
      var section = document.getElementById("subidas");
      var list = document.getElementById("lista-subidas");
      section.hidden = false;
      var queue = files.map(function (file, i) { return [file, item(list, file, list.children.length + i)]; });
      var running = 0;
      function next() {
        while (running < PARALLEL && queue.length) {
          var job = queue.shift();
          running += 1;
          send(form, job[0], job[1], function () { running -= 1; next(); });
        }
      }
      next();
      form.reset();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
