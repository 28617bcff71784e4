// The base map under the pins. With MAP_TILE_URL: raster tiles. Without (the default, offline):
// land, coastlines and borders drawn from Natural Earth (world-atlas TopoJSON, served by this
// app) on a sea-coloured background, and city names from the server, more of them as the user
// zooms in. Nothing is fetched from another origin.
window.CrmBaseMap = (function () {
  "use strict";

  // Natural Earth scale by zoom: coarse for the world, finer for a region or a city.
  var SCALES = [[0, "110m"], [3, "50m"], [6, "10m"]];
  var atlases = {};  // scale -> promise of {land: [...pieces], borders: [...pieces]}

  function create(el, view) {
    L.Icon.Default.imagePath = el.dataset.imagePath;
    view = view || { center: [50, 10], zoom: 4 };
    // Pins are drawn on a canvas; on a touch screen a tap 16 px off still hits one (a 44 px target).
    var renderer = L.canvas({ tolerance: L.Browser.touch ? 16 : 2 });
    var map = L.map(el, { renderer: renderer, worldCopyJump: true, minZoom: 2, maxZoom: 18 })
      .setView(view.center, view.zoom, { animate: false });
    el.leafletMap = map;
    // the page around the map changes its size (a drawer opens, a phone turns): redraw to fit
    new ResizeObserver(function () { map.invalidateSize({ pan: false }); }).observe(el);
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: el.dataset.tileAttribution || "" }).addTo(map);
    } else {
      drawOffline(map, el);
    }
    return map;
  }

  // -- land, coasts and borders -----------------------------------------------------------

  function drawOffline(map, el) {
    el.classList.add("offline-map");
    map.createPane("basemap").style.zIndex = 150;  // under territories and pins
    map.createPane("places").style.zIndex = 450;   // over territories, under pins and popups
    map.getPane("places").style.pointerEvents = "none";
    if (el.dataset.attribution) map.attributionControl.addAttribution(el.dataset.attribution);
    var s = { map: map, el: el, renderer: L.canvas({ pane: "basemap", padding: 0.5 }),
              shown: L.layerGroup().addTo(map), scale: null, atlas: null, drawn: [],
              labels: L.layerGroup().addTo(map), labelRequest: null, timer: null,
              graticule: graticule() };
    map.on("moveend", function () { refresh(s); });
    refresh(s);
    el.addEventListener("basemap:graticule", function (event) {
      if (event.detail) s.graticule.addTo(map); else map.removeLayer(s.graticule);
    });
  }

  function refresh(s) {
    var scale = scaleFor(s.map.getZoom());
    if (scale !== s.scale) {
      s.scale = scale;
      atlas(s.el.dataset.world, scale).then(function (pieces) {
        if (s.scale !== scale) return;  // the user zoomed on meanwhile
        s.atlas = pieces;
        showPieces(s);
      });
    } else if (s.atlas) {
      showPieces(s);
    }
    clearTimeout(s.timer);
    s.timer = setTimeout(function () { loadLabels(s); }, 120);
  }

  function scaleFor(zoom) {
    var scale = SCALES[0][1];
    SCALES.forEach(function (entry) { if (zoom >= entry[0]) scale = entry[1]; });
    return scale;
  }

  function atlas(base, scale) {
    if (!atlases[scale]) {
      atlases[scale] = fetch(base + "countries-" + scale + ".json")
        .then(function (r) { return r.json(); })
        .then(function (topology) {
          var land = topojson.feature(topology, topology.objects.land);
          var borders = topojson.mesh(topology, topology.objects.countries, function (a, b) { return a !== b; });
          return pieces(land, "land").concat(pieces(borders, "border"));
        });
    }
    return atlases[scale];
  }

  // One piece per polygon or line with its bounds, so a city view draws only what it shows.
  function pieces(geojson, kind) {
    var geometries = geojson.type === "FeatureCollection"
      ? geojson.features.map(function (f) { return f.geometry; })
      : [geojson.geometry || geojson];
    var out = [];
    geometries.forEach(function (g) {
      var parts = g.type === "MultiPolygon" || g.type === "MultiLineString" ? g.coordinates : [g.coordinates];
      parts.forEach(function (coords) {
        var shapes = kind === "land" ? splitPolygon(coords) : splitLine(coords);
        shapes.forEach(function (latlngs) {
          out.push({ kind: kind, latlngs: latlngs, bounds: L.latLngBounds(kind === "land" ? latlngs[0] : latlngs),
                     layer: null });
        });
      });
    });
    return out;
  }

  // Natural Earth cuts shapes at the antimeridian: a ring that reaches ±180 jumps across the whole
  // map there, which would draw a band round the world. Each side of the cut becomes its own shape.
  function jumps(line, i) {
    return Math.abs(line[i + 1][0] - line[i][0]) > 180;
  }

  function splitPolygon(rings) {
    var outer = rings[0], sides = [[], []], side = 0, crossings = 0;
    for (var i = 0; i < outer.length; i++) {
      sides[side].push(outer[i]);
      if (i + 1 < outer.length && jumps(outer, i)) { side = 1 - side; crossings++; }
    }
    if (crossings < 2) return [rings.map(swap)];  // once round the pole (Antarctica): the jump is off the map
    return sides.filter(function (r) { return r.length >= 3; }).map(function (r) { return [swap(r)]; });
  }

  function splitLine(line) {
    var out = [[line[0]]];
    for (var i = 0; i + 1 < line.length; i++) {
      if (jumps(line, i)) out.push([]);
      out[out.length - 1].push(line[i + 1]);
    }
    return out.filter(function (l) { return l.length >= 2; }).map(swap);
  }

  function swap(ring) {
    return ring.map(function (p) { return [p[1], p[0]]; });
  }

  function showPieces(s) {
    var view = s.map.getBounds().pad(0.5);
    var wanted = s.atlas.filter(function (p) { return view.intersects(p.bounds); });
    s.drawn.forEach(function (p) { if (wanted.indexOf(p) < 0) s.shown.removeLayer(p.layer); });
    wanted.forEach(function (p) {
      if (!p.layer) p.layer = layerFor(s, p);
      if (!s.shown.hasLayer(p.layer)) s.shown.addLayer(p.layer);
    });
    s.drawn = wanted;
  }

  function layerFor(s, piece) {
    var common = { renderer: s.renderer, pane: "basemap", interactive: false };
    if (piece.kind === "land") {
      return L.polygon(piece.latlngs, L.extend({ color: "#7f9db3", weight: 1, fillColor: "#f4f1e8", fillOpacity: 1 }, common));
    }
    return L.polyline(piece.latlngs, L.extend({ color: "#a08f80", weight: 1, dashArray: "4 3", opacity: 0.9 }, common));
  }

  function graticule() {
    // Lines every 10°, under the pins; a switch on the map page shows them.
    var lines = [];
    for (var lng = -180; lng <= 180; lng += 10) lines.push([[-85, lng], [85, lng]]);
    for (var lat = -80; lat <= 80; lat += 10) lines.push([[lat, -180], [lat, 180]]);
    return L.polyline(lines, { color: "#6f8fab", weight: 0.6, opacity: 0.5, interactive: false, pane: "basemap" });
  }

  // -- place names ------------------------------------------------------------------------

  function loadLabels(s) {
    if (!s.el.dataset.places) return;
    if (s.labelRequest) s.labelRequest.abort();
    s.labelRequest = new AbortController();
    var b = s.map.getBounds();
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(3); });
    fetch(s.el.dataset.places + "?bbox=" + bbox.join(",") + "&zoom=" + s.map.getZoom(),
          { signal: s.labelRequest.signal, headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) { showLabels(s, data.labels || []); })
      .catch(function () { /* names come back with the next move */ });
  }

  function showLabels(s, labels) {
    s.labels.clearLayers();
    labels.forEach(function (place) {
      var name = document.createElement("span");
      name.textContent = place[0];  // text, never HTML
      var icon = L.divIcon({ className: "place-label", html: name, iconSize: null });
      s.labels.addLayer(L.marker([place[1], place[2]], { icon: icon, pane: "places", interactive: false,
                                                          keyboard: false }));
    });
    s.el.dataset.placeCount = labels.length;
  }

  return { create: create };
})();
