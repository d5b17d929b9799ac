// The page's only script (the Content-Security-Policy allows no inline one): every second it asks
// the server for the live region (GET /live) and, when it changed, swaps it in place of
// <section id="live">, so new messages appear without a reload.
//
// document.body.dataset.updated counts the swaps: the first poll always swaps (so it becomes "1"
// about a second after the page loads: live updates are running), later polls only when the region
// changed (so text stays selectable and photos do not flicker). Tests may wait on it.
// document.body.dataset.connection is "live", or "offline" while the server does not answer.
(function () {
  "use strict";

  var INTERVAL_MS = 1000;
  var swaps = 0;
  var last = null;
  var busy = false;

  function setConnection(state, words) {
    document.body.dataset.connection = state;
    var label = document.getElementById("connection");
    if (label) {
      label.textContent = words;
    }
  }

  function swap(html) {
    var current = document.getElementById("live");
    if (!current) {
      return;
    }
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var next = template.content.firstElementChild;
    if (!next || next.id !== "live") {
      return;
    }
    current.replaceWith(next);
    swaps += 1;
    document.body.dataset.updated = String(swaps);
  }

  function poll() {
    if (busy) {
      return;
    }
    busy = true;
    fetch("/live", { cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        if (swaps === 0 || html !== last) {
          swap(html);
          last = html;
        }
        setConnection("live", "Updating every second.");
      })
      .catch(function () {
        setConnection("offline", "Not updating: is botctl serve still running?");
      })
      .then(function () {
        busy = false;
      });
  }

  poll();
  window.setInterval(poll, INTERVAL_MS);
})();
