// The lasso: draw round pins with a mouse, a pen or a finger (pointer events). The line is kept
// inside the map (a drag past its edge follows the edge), Escape cancels, and the map pans again
// once the lasso is done. Fires "lasso.finished" {latLngs} and "lasso.disabled" on the map.
window.CrmLasso = (function () {
  "use strict";

  var STYLE = { color: "#111827", weight: 2, dashArray: "6 4", fill: true, fillOpacity: 0.06, interactive: false };

  function create(map) {
    var el = map.getContainer();
    var s = { map: map, el: el, on: false, pointer: null, points: [], line: null };
    el.addEventListener("pointerdown", function (event) { start(s, event); });
    el.addEventListener("pointermove", function (event) { extend(s, event); });
    el.addEventListener("pointerup", function (event) { finish(s, event); });
    el.addEventListener("pointercancel", function () { stopLine(s); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && s.on) { event.preventDefault(); disable(s, true); }
    });
    return {
      enable: function () { enable(s); },
      disable: function () { disable(s); },
      enabled: function () { return s.on; }
    };
  }

  function enable(s) {
    s.on = true;
    s.map.dragging.disable();  // the finger draws instead of panning
    s.el.classList.add("lasso-active");
  }

  function disable(s, cancelled) {
    if (!s.on) return;
    stopLine(s);
    s.on = false;
    s.map.dragging.enable();
    s.el.classList.remove("lasso-active");
    s.map.fire("lasso.disabled", { cancelled: Boolean(cancelled) });
  }

  function start(s, event) {
    if (!s.on || s.pointer !== null || event.button > 0) return;
    if (event.target.closest(".leaflet-control")) return;  // the zoom buttons still work
    event.preventDefault();
    event.stopPropagation();
    s.pointer = event.pointerId;
    s.el.setPointerCapture(event.pointerId);  // moves past the map's edge still arrive
    s.points = [latLng(s, event)];
    s.line = L.polygon(s.points, STYLE).addTo(s.map);
  }

  function extend(s, event) {
    if (event.pointerId !== s.pointer) return;
    event.preventDefault();
    s.points.push(latLng(s, event));
    s.line.setLatLngs(s.points);
  }

  function finish(s, event) {
    if (event.pointerId !== s.pointer) return;
    var points = s.points;
    stopLine(s);
    if (points.length < 3) return;  // a tap, not a loop: keep the lasso ready
    s.map.fire("lasso.finished", { latLngs: points });
    disable(s);
  }

  function stopLine(s) {
    if (s.pointer !== null && s.el.hasPointerCapture(s.pointer)) s.el.releasePointerCapture(s.pointer);
    s.pointer = null;
    if (s.line) s.map.removeLayer(s.line);
    s.line = null;
    s.points = [];
  }

  // Where the pointer is, clamped to the map: a lasso that leaves the map runs along its edge.
  function latLng(s, event) {
    var box = s.el.getBoundingClientRect();
    var x = Math.min(Math.max(event.clientX - box.left, 0), box.width);
    var y = Math.min(Math.max(event.clientY - box.top, 0), box.height);
    return s.map.containerPointToLatLng([x, y]);
  }

  return { create: create };
})();
