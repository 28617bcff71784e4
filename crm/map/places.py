"""The offline base map's place names and the "Go to" city search (JSON for map.js)."""
from flask import jsonify, request
from flask_login import login_required

from crm.map.routes import bp
from crm.services import DomainError
from crm.services.geometry import parse_viewport
from crm.services.places import city_labels, find_places

MAX_QUERY = 100


@bp.get("/places")
@login_required
def place_labels():
    """City names to draw in the visible area: more (and smaller) places as the user zooms in."""
    try:
        viewport = parse_viewport(request.args.get("bbox"), request.args.get("zoom"))
    except DomainError as error:
        return jsonify(error=str(error)), 400
    response = jsonify(labels=city_labels(viewport))
    response.cache_control.max_age = 3600  # the same view always names the same places
    return response


@bp.get("/places/search")
@login_required
def search_places():
    """Suggestions for the "Go to" box: cities by name (accents and case ignored), biggest first."""
    return jsonify(places=find_places(request.args.get("q", "")[:MAX_QUERY]))
