// The map page: pins for the visible area (server-clustered when many), lasso selection,
// territory layers and a click-to-add-vertex tool for drawing territories. The territory edit
// page uses the same drawing tool on a small map of the territory's outline ("Redraw").
(function () {
  "use strict";

  var state = null; // one map per page

  htmx.onLoad(function (root) {
    var confirm = find(root, "#territory-delete:not(.drawer-page) h2");  // the delete question, in the drawer
    if (confirm) confirm.focus();
    var outline = find(root, "#territory-map");
    if (outline && !outline.leafletMap) createOutlineMap(outline);
    var el = root.id === "map" ? root : root.querySelector && root.querySelector("#map");
    if (el && !el.leafletMap) state = createMap(el);
    if (!state) return;
    var config = find(root, "#map-config");
    if (config) configure(JSON.parse(config.textContent));
    var selection = find(root, "#map-selection");
    if (selection) showSelection(selection);
  });

  var messages = null;

  function t(key) {
    // the page's texts for this script, in the user's language (map/_basemap.html)
    if (!messages) {
      var block = document.getElementById("map-messages");
      messages = block ? JSON.parse(block.textContent) : {};
    }
    return messages[key] || "";
  }

  function find(root, selector) {
    if (root.matches && root.matches(selector)) return root;
    return root.querySelector ? root.querySelector(selector) : null;
  }

  // -- map and background ---------------------------------------------------------------

  function baseMap(el, view) {
    return CrmBaseMap.create(el, view);  // static/js/basemap.js: tiles, or the offline map
  }

  function createMap(el) {
    var view = CrmMapNav.urlView();  // static/js/mapnav.js: a shared or reloaded view
    var map = baseMap(el, view);
    var s = {
      map: map, el: el, config: null, request: null, timer: null,
      pins: L.markerClusterGroup({ maxClusterRadius: 40, disableClusteringAtZoom: 12,
                                   showCoverageOnHover: false, chunkedLoading: true }).addTo(map),
      clusters: L.layerGroup().addTo(map),
      territories: L.layerGroup().addTo(map),
      territoryLayers: {},
      selection: L.layerGroup().addTo(map),
      lasso: CrmLasso.create(map),  // static/js/maplasso.js: mouse, pen or finger
      draw: null
    };
    s.keepView = Boolean(view);
    CrmMapNav.attach(map, hint);
    map.on("moveend", function () { schedule(s); });
    map.on("lasso.finished", function (event) { lassoFinished(s, event.latLngs); });
    map.on("lasso.disabled", function (event) {
      press("lasso-toggle", false);
      if (event.cancelled) hint(t("lasso_cancelled"));
    });
    setupTools(s);
    showDraft(s);
    document.addEventListener("records-changed", function () { refreshSelection(); });
    document.addEventListener("change", function (event) {
      var box = event.target;
      if (box.matches("[data-territory-toggle]")) toggleTerritory(s, box.dataset.territoryToggle, box.checked);
      if (box.matches("#lasso-picks input[name=ids]")) styleSelection(s);
    });
    return s;
  }

  function configure(config) {
    // A new filter: show where its records are, then load their pins.
    var refilter = !state.config || state.config.points !== config.points;  // not after a mass change
    if (state.config) state.keepView = false;  // only the first load keeps a refused draft in view
    state.config = config;
    drawTerritories(state, config.territories || []);
    showLegend();
    if (config.bounds && refilter && !state.keepView) {
      state.map.fitBounds(config.bounds, { padding: [30, 30], maxZoom: 13, animate: false });
      clearTimeout(state.timer);
    }
    load(state);
  }

  // -- pins -----------------------------------------------------------------------------

  function colorBy() {
    var choice = document.getElementById("pin-color");
    return choice && choice.value === "owner" ? "owner" : "status";
  }

  function showLegend() {
    // the legend of the "Colour by" choice; the choice lives in the URL with the view
    var by = colorBy();
    document.querySelectorAll("[data-legend]").forEach(function (box) { box.hidden = box.dataset.legend !== by; });
    var params = new URLSearchParams(location.search);
    if (by === "owner") params.set("color", "owner"); else params.delete("color");
    history.replaceState(history.state, "", location.pathname + (params.toString() ? "?" + params : ""));
  }

  function schedule(s) {
    clearTimeout(s.timer);
    s.timer = setTimeout(function () { load(s); }, 150);
  }

  function load(s) {
    if (!s.config) return;
    if (s.request) s.request.abort();
    s.request = new AbortController();
    var b = s.map.getBounds();
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); });
    var url = s.config.points + (s.config.points.indexOf("?") < 0 ? "?" : "&") +
      "bbox=" + bbox.join(",") + "&zoom=" + s.map.getZoom() + "&color=" + colorBy();
    s.el.setAttribute("aria-busy", "true");
    fetch(url, { signal: s.request.signal, headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) { render(s, data); })
      .catch(function (error) { if (error.name !== "AbortError") hint(t("pins_failed")); })
      .finally(function () { s.el.removeAttribute("aria-busy"); });
  }

  function render(s, data) {
    s.pins.clearLayers();
    s.clusters.clearLayers();
    s.el.dataset.mode = data.mode || "";
    s.el.dataset.total = data.total || 0;
    if (data.mode === "pins") {
      var colors = (s.config.legend || {})[colorBy()] || {};
      var markers = data.pins.map(function (p) {
        var m = L.circleMarker([p[1], p[2]], { radius: 7, weight: 1.5, color: "#fff",
                                               fillColor: colors[p[3]] || "#2563eb", fillOpacity: 0.95 });
        m.recordId = p[0];
        m.bindPopup(textNode("span", t("loading")), { maxWidth: 260 });
        m.on("popupopen", function () { fillPopup(s, m); });
        return m;
      });
      s.pins.addLayers(markers);
    } else if (data.mode === "clusters") {
      data.clusters.forEach(function (c) {
        var size = c[2] < 100 ? "small" : c[2] < 1000 ? "medium" : "large";
        var inner = document.createElement("div");
        inner.appendChild(textNode("span", c[2].toLocaleString()));
        var icon = L.divIcon({ html: inner, className: "marker-cluster marker-cluster-" + size, iconSize: [40, 40] });
        var marker = L.marker([c[0], c[1]], { icon: icon, title: t("cluster").replace("{count}", c[2].toLocaleString()), keyboard: true });
        marker.on("click", function () {
          var box = c[3];
          s.map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding: [30, 30], maxZoom: s.map.getZoom() + 3 });
        });
        s.clusters.addLayer(marker);
      });
    }
  }

  function fillPopup(s, marker) {
    var url = s.config.popup.replace("/0/popup", "/" + marker.recordId + "/popup");
    fetch(url, { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; })
      .then(function (data) {
        marker.setPopupContent(data ? popupContent(data) : textNode("span", t("unavailable")));
      });
  }

  // Everything from the server goes into the page as text (DOM nodes), never as HTML.
  function textNode(tag, text, className) {
    var node = document.createElement(tag);
    node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function popupContent(data) {
    var box = textNode("div", "", "pin-popup");
    var title = box.appendChild(textNode("p", "", "popup-title"));
    title.appendChild(textNode("a", data.title)).href = data.url;
    var list = box.appendChild(document.createElement("dl"));
    data.fields.forEach(function (field) {
      list.appendChild(textNode("dt", field[0]));
      list.appendChild(textNode("dd", field[1]));
    });
    box.appendChild(textNode("a", data.open, "button")).href = data.url;
    return box;
  }

  // -- territories ------------------------------------------------------------------------

  function drawTerritories(s, territories) {
    s.territories.clearLayers();
    s.territoryLayers = {};
    territories.forEach(function (t) {
      if (!t.geojson) return;
      var layer = L.geoJSON(t.geojson, { interactive: false,
        style: { color: t.color, weight: 2, fillColor: t.color, fillOpacity: 0.15 } });
      s.territoryLayers[t.id] = layer;
      var box = document.querySelector('[data-territory-toggle="' + t.id + '"]');
      if (!box || box.checked) s.territories.addLayer(layer);
    });
  }

  function createOutlineMap(el) {
    // The edit page: the current outline, and "Redraw" to draw a new one into the edit form.
    var s = { map: baseMap(el), el: el, lasso: null, draw: null, outline: null, pending: null };
    var shape = parse(el.dataset.outline);
    if (shape) {
      s.outline = L.geoJSON(shape, { interactive: false, style: { color: el.dataset.color, weight: 2,
        fillColor: el.dataset.color, fillOpacity: 0.15 } }).addTo(s.map);
      s.map.fitBounds(s.outline.getBounds(), { padding: [30, 30], animate: false });
    }
    var drawn = parse(drawForm(s).elements.outline.value);  // a new outline kept after a refused save
    if (drawn) showPending(s, L.polygon(drawn, pendingStyle()).addTo(s.map));
    var tools = el.closest(".territory-outline").querySelector("[data-needs-js]");
    if (tools) tools.hidden = false;
    setupDrawing(s);
  }

  function parse(text) {
    try { return text ? JSON.parse(text) : null; } catch (error) { return null; }
  }

  function pendingStyle() {
    return { color: "#111827", weight: 2, dashArray: "4 4", fillOpacity: 0.1 };
  }

  function showPending(s, layer) {
    if (s.pending && s.pending !== layer) s.map.removeLayer(s.pending);
    s.pending = layer;
    if (s.outline) s.outline.setStyle({ opacity: 0.4, fillOpacity: 0.05, dashArray: "2 6" });
  }

  function toggleTerritory(s, id, visible) {
    var layer = s.territoryLayers[id];
    if (!layer) return;
    if (visible) s.territories.addLayer(layer); else s.territories.removeLayer(layer);
  }

  // -- lasso ----------------------------------------------------------------------------

  function lassoFinished(s, latLngs) {
    var form = document.getElementById("lasso-form");
    if (!form) return;
    s.drawnLasso = latLngs.map(function (p) { return [p.lat, p.lng]; });
    form.elements.shape.value = JSON.stringify(s.drawnLasso);
    hint(t("lasso_finding"));
    form.requestSubmit();
  }

  function refreshSelection() {
    // After a mass change the lasso runs again, so the pick list shows the new owners; the pins
    // the user had unticked stay unticked, and the drawer keeps the outcome of the change.
    var form = document.getElementById("lasso-form");
    var picks = document.getElementById("lasso-picks");
    if (!form || !picks || !form.elements.shape.value) return;
    var picked = Array.from(picks.querySelectorAll("input[type=checkbox][name=ids]:checked"), function (b) { return b.value; });
    htmx.ajax("POST", form.getAttribute("hx-post"), { source: form, target: "#map-selection", swap: "outerHTML",
                                                      values: { refresh: "1", picked: picked.join(",") } });
  }

  function showSelection(section) {
    var s = state;
    s.selection.clearLayers();
    hint("");
    if (s.drawnLasso && section.querySelector("#lasso-picks, .message")) {
      s.selection.addLayer(L.polygon(s.drawnLasso, { color: "#111827", weight: 2, dashArray: "6 4",
                                                     fill: false, interactive: false }));
    }
    section.querySelectorAll("#lasso-picks input[name=ids][data-lat]").forEach(function (box) {
      var ring = L.circleMarker([+box.dataset.lat, +box.dataset.lng], { radius: 11, weight: 3,
                                                                       color: "#111827", fill: false });
      ring.pick = box;
      ring.bindTooltip(textNode("span", box.parentNode.textContent.trim().replace(/\s+/g, " ")));
      ring.on("click", function () {
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change", { bubbles: true }));
      });
      s.selection.addLayer(ring);
    });
    styleSelection(s);
  }

  function styleSelection(s) {
    var count = document.querySelector("#lasso-picks [data-pick-count]");
    if (count && document.querySelector("#lasso-picks input[type=checkbox][name=ids]")) {
      count.textContent = window.crmCount("records", document.querySelectorAll("#lasso-picks input[type=checkbox][name=ids]:checked").length);
    }
    s.selection.eachLayer(function (layer) {
      if (layer.pick) layer.setStyle({ opacity: layer.pick.checked ? 1 : 0.25, dashArray: layer.pick.checked ? null : "3 3" });
    });
  }

  // -- tools: lasso toggle and territory drawing ----------------------------------------

  function setupTools(s) {
    var tools = document.querySelector(".map-tools[data-needs-js]");
    if (tools) tools.hidden = false;
    var color = document.getElementById("pin-color");
    if (color) color.addEventListener("change", function () { showLegend(); load(s); });
    var grid = document.getElementById("graticule-toggle");
    if (grid) grid.addEventListener("change", function () {
      s.el.dispatchEvent(new CustomEvent("basemap:graticule", { detail: grid.checked }));
    });
    var lassoButton = document.getElementById("lasso-toggle");
    lassoButton.addEventListener("click", function () {
      stopDrawing(s);
      if (s.lasso.enabled()) { s.lasso.disable(); return; }
      s.lasso.enable();
      press("lasso-toggle", true);
      hint(t("lasso_hint"));
    });
    document.getElementById("select-view").addEventListener("click", function () {
      // The view as a ring, with a corner at least every 90° so a world-wide view stays one ring.
      var b = s.map.getBounds(), west = b.getWest(), east = b.getEast(), ring = [];
      var steps = Math.max(1, Math.ceil((east - west) / 90));
      for (var i = 0; i <= steps; i++) ring.push(L.latLng(b.getNorth(), west + (east - west) * i / steps));
      for (var j = steps; j >= 0; j--) ring.push(L.latLng(b.getSouth(), west + (east - west) * j / steps));
      lassoFinished(s, ring);
    });
    setupDrawing(s);
  }

  function setupDrawing(s) {
    var drawButton = document.getElementById("draw-toggle");
    if (!drawButton) return;
    drawButton.addEventListener("click", function () {
      if (s.draw) { stopDrawing(s); return; }
      if (s.lasso) s.lasso.disable();
      startDrawing(s);
    });
    document.getElementById("draw-finish").addEventListener("click", function () { finishDrawing(s); });
    document.getElementById("draw-cancel").addEventListener("click", function () { stopDrawing(s); });
  }

  function startDrawing(s) {
    if (s.draft) { s.map.removeLayer(s.draft); s.draft = null; }
    s.draw = { points: [], line: L.polygon([], pendingStyle()).addTo(s.map) };
    s.map.doubleClickZoom.disable();
    s.el.classList.add("drawing");
    press("draw-toggle", true);
    show("draw-finish", true);
    show("draw-cancel", true);
    hint(t("draw_hint"));
    s.draw.onClick = function (event) {
      s.draw.points.push(event.latlng);
      s.draw.line.setLatLngs(s.draw.points);
      document.getElementById("draw-finish").disabled = s.draw.points.length < 3;
    };
    s.map.on("click", s.draw.onClick);
  }

  function finishDrawing(s) {
    if (!s.draw || s.draw.points.length < 3) return;
    var form = drawForm(s);
    form.elements.outline.value = JSON.stringify(s.draw.points.map(function (p) { return [p.lat, p.lng]; }));
    var keep = s.draw.line;
    stopDrawing(s, keep);
    if (s.el.dataset.drawForm) {  // redrawing an existing territory: the edit form saves it
      showPending(s, keep);
      hint(t("redrawn"));
      return;
    }
    form.hidden = false;
    form.querySelector("[name=name]").focus();
    hint(t("draw_name"));
  }

  function showDraft(s) {
    // A refused save came back with the outline drawn before: show it, ready to save again.
    var form = document.getElementById("territory-form");
    var drawn = form && parse(form.elements.outline.value);
    if (!drawn) return;
    s.draft = L.polygon(drawn, pendingStyle()).addTo(s.map);
    s.map.fitBounds(s.draft.getBounds(), { padding: [30, 30], animate: false });
    s.keepView = true;
  }

  function drawForm(s) {
    return document.getElementById(s.el.dataset.drawForm || "territory-form");
  }

  function stopDrawing(s, keep) {
    if (!s.draw) return;
    s.map.off("click", s.draw.onClick);
    if (s.draw.line !== keep) s.map.removeLayer(s.draw.line);
    s.draw = null;
    s.map.doubleClickZoom.enable();
    s.el.classList.remove("drawing");
    press("draw-toggle", false);
    show("draw-finish", false);
    show("draw-cancel", false);
    if (!keep) hint("");
  }

  function press(id, on) {
    var b = document.getElementById(id);
    if (b) b.setAttribute("aria-pressed", on ? "true" : "false");
  }

  function show(id, on) {
    var b = document.getElementById(id);
    if (b) b.hidden = !on;
  }

  function hint(text) {
    var h = document.getElementById("map-hint");
    if (h) h.textContent = text;
  }
})();
