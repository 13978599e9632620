// Server push for a job's status block (console/app/live.py). A block with `data-events` is kept up
// to date by an EventSource stream: each event carries the block's new HTML, swapped in by id through
// htmx. While the stream is open, htmx's 1 s poll of that block is skipped; without
// EventSource, or once the stream fails, the poll carries on as before (the fallback).
(function () {
  "use strict";
  if (!window.EventSource) return;
  const live = new Set();    // ids of the blocks a stream keeps up to date
  const broken = new Set();  // ids whose stream failed: they stay on the poll

  // htmx's own swap: the new block is processed and htmx:load / htmx:afterSettle fire as for a poll's
  function swap(id, html) {
    const old = document.getElementById(id);
    if (old) htmx.swap(old, html, {swapStyle: "outerHTML"});
  }

  function follow(block) {
    const id = block.id, url = block.getAttribute("data-events");
    if (!id || !url || live.has(id) || broken.has(id)) return;
    live.add(id);
    const source = new EventSource(url);
    const stop = function () { source.close(); live.delete(id); };
    source.addEventListener("fragment", function (event) { swap(id, event.data); });
    source.addEventListener("done", function (event) { stop(); swap(id, event.data); });
    source.addEventListener("login", function (event) { stop(); window.location.assign(event.data); });
    source.onerror = function () { stop(); broken.add(id); };
  }

  function scan(root) {
    if (root.matches && root.matches("[data-events]")) follow(root);
    if (root.querySelectorAll) root.querySelectorAll("[data-events]").forEach(follow);
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    const elt = event.detail.elt;
    if (elt.id && live.has(elt.id) && elt.hasAttribute("data-events")) event.preventDefault();
  });
  document.addEventListener("htmx:load", function (event) { scan(event.target); });
  document.addEventListener("DOMContentLoaded", function () { scan(document.body); });
})();
