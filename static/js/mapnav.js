// Finding a place on the map page: the view (centre and zoom) kept in the URL with the filter, so a
// map can be shared and reloaded as it was; the "Go to" city search (an ARIA combobox); "Fit to
// records". Texts come from the page (data- attributes), suggestions from the server as text.
window.CrmMapNav = (function () {
  "use strict";

  // -- the view in the URL ----------------------------------------------------------------

  function urlView() {
    // ?center=lat,lng&zoom=z from a shared or reloaded link wins over "show all the records".
    var params = new URLSearchParams(location.search);
    var center = (params.get("center") || "").split(",").map(Number);
    var zoom = parseInt(params.get("zoom"), 10);
    if (center.length !== 2 || !center.every(isFinite) || !isFinite(zoom)) return null;
    return { center: [Math.max(-85, Math.min(85, center[0])), center[1]], zoom: Math.max(2, Math.min(18, zoom)) };
  }

  function keepViewInUrl(map) {
    map.on("moveend", function () {
      var params = new URLSearchParams(location.search);
      var c = map.getCenter().wrap();
      params.set("center", c.lat.toFixed(4) + "," + c.lng.toFixed(4));
      params.set("zoom", map.getZoom());
      // commas are fine in a query string and keep the link readable: center=53.55,9.99
      history.replaceState(history.state, "", location.pathname + "?" + params.toString().replace(/%2C/g, ","));
    });
  }

  // -- "Go to" ------------------------------------------------------------------------------

  function setupGoTo(map) {
    var input = document.getElementById("goto-input");
    if (!input) return;
    var box = input.closest("[data-needs-js]");
    if (box) box.hidden = false;
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var status = document.getElementById("goto-status");
    var c = { map: map, input: input, list: list, status: status, places: [], active: -1, timer: null, request: null };
    input.addEventListener("input", function () {
      clearTimeout(c.timer);
      c.timer = setTimeout(function () { suggest(c); }, 150);
    });
    input.addEventListener("keydown", function (event) { onKey(c, event); });
    input.addEventListener("blur", function () { setTimeout(function () { close(c); }, 150); });
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });  // keep the focus
    list.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) pick(c, +option.dataset.index);
    });
    input.form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (c.places.length) pick(c, Math.max(0, c.active)); else suggest(c, true);
    });
  }

  function suggest(c, goFirst) {
    var q = c.input.value.trim();
    if (c.request) c.request.abort();
    if (!q) { show(c, []); return; }
    c.request = new AbortController();
    fetch(c.input.dataset.url + "?q=" + encodeURIComponent(q), { signal: c.request.signal,
                                                                  headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        show(c, data.places || []);
        if (goFirst && c.places.length) pick(c, 0);
      })
      .catch(function () { /* the next keystroke asks again */ });
  }

  function show(c, places) {
    c.places = places;
    c.active = -1;
    c.list.replaceChildren();
    places.forEach(function (place, i) {
      var option = document.createElement("li");
      option.id = "goto-option-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.index = i;
      option.textContent = place.label;  // text, never HTML
      c.list.appendChild(option);
    });
    var open = places.length > 0;
    c.list.hidden = !open;
    c.input.setAttribute("aria-expanded", open ? "true" : "false");
    c.input.removeAttribute("aria-activedescendant");
    var message = c.input.value.trim() ? (open ? c.input.dataset.found : c.input.dataset.none) : "";
    c.status.textContent = message.replace("{count}", places.length);
  }

  function onKey(c, event) {
    var count = c.places.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!count) return;
      event.preventDefault();
      c.list.hidden = false;
      c.input.setAttribute("aria-expanded", "true");
      var down = event.key === "ArrowDown";
      highlight(c, down ? (c.active + 1) % count : (c.active <= 0 ? count - 1 : c.active - 1));
    } else if (event.key === "Escape") {
      if (!c.list.hidden) { event.preventDefault(); close(c); } else if (c.input.value) { c.input.value = ""; show(c, []); }
    }
  }

  function highlight(c, index) {
    c.active = index;
    Array.prototype.forEach.call(c.list.children, function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
      if (i === index) option.scrollIntoView({ block: "nearest" });
    });
    c.input.setAttribute("aria-activedescendant", "goto-option-" + index);
  }

  function close(c) {
    c.list.hidden = true;
    c.input.setAttribute("aria-expanded", "false");
    c.input.removeAttribute("aria-activedescendant");
  }

  function pick(c, index) {
    var place = c.places[index];
    if (!place) return;
    c.input.value = place.label;
    close(c);
    c.map.flyTo([place.lat, place.lng], place.zoom, { duration: 0.8 });
  }

  // -- "Fit to records" ---------------------------------------------------------------------

  function setupFit(map, hint) {
    var button = document.getElementById("fit-records");
    if (!button) return;
    button.addEventListener("click", function () {
      // the bounds of the current filter's records, from the summary block the filter last refreshed
      var config = JSON.parse(document.getElementById("map-config").textContent);
      if (!config.bounds) { hint(button.dataset.none); return; }
      map.fitBounds(config.bounds, { padding: [30, 30], maxZoom: 13 });
    });
  }

  function attach(map, hint) {
    keepViewInUrl(map);
    setupGoTo(map);
    setupFit(map, hint);
  }

  return { urlView: urlView, attach: attach };
})();
