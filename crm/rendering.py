"""One helper decides between the whole page and one of its blocks."""
from flask import make_response, render_template, request, session
from jinja2_fragments.flask import render_block


def wants_fragment() -> bool:
    """An htmx request that swaps part of the page (not a history restore or a full-body swap)."""
    h = request.headers
    return (h.get("HX-Request") == "true" and h.get("HX-History-Restore-Request") != "true"
            and h.get("HX-Request-Type", "partial") != "full")


def render(template: str, block: str, status: int = 200, **context):
    """The page for a normal request, the named block of the same template for htmx."""
    if wants_fragment():
        body = render_block(template, block, **context)
        if session.get("_flashes"):
            body += render_template("_messages.html", oob=True)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response
