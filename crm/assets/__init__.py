"""Serves the few front-end library files the pages use, from static/node_modules (allow-list)."""
from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory

bp = Blueprint("assets", __name__, url_prefix="/vendor")

ALLOWED = {
    "htmx.js": "htmx.org/dist/htmx.min.js",
    "leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet.css": "leaflet/dist/leaflet.css",
    "images/marker-icon.png": "leaflet/dist/images/marker-icon.png",
    "images/marker-icon-2x.png": "leaflet/dist/images/marker-icon-2x.png",
    "images/marker-shadow.png": "leaflet/dist/images/marker-shadow.png",
    "images/layers.png": "leaflet/dist/images/layers.png",
    "markercluster.js": "leaflet.markercluster/dist/leaflet.markercluster.js",
    "markercluster.css": "leaflet.markercluster/dist/MarkerCluster.css",
    "markercluster-default.css": "leaflet.markercluster/dist/MarkerCluster.Default.css",
    "sortable.js": "sortablejs/Sortable.min.js",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "topojson.js": "topojson-client/dist/topojson-client.min.js",
    # Natural Earth land and borders for the offline base map, finer as the user zooms in
    "world/countries-110m.json": "world-atlas/countries-110m.json",
    "world/countries-50m.json": "world-atlas/countries-50m.json",
    "world/countries-10m.json": "world-atlas/countries-10m.json",
}


@bp.get("/<path:name>")
def vendor(name: str):
    """One allow-listed library file; everything else in node_modules stays private."""
    target = ALLOWED.get(name)
    if target is None:
        abort(404)
    root = Path(current_app.static_folder) / "node_modules"
    return send_from_directory(root, target, max_age=86400)
