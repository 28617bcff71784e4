"""One helper decides between the whole page and one of its blocks, with htmx-flask's request and
response helpers.

htmx-flask gives `request.htmx` (an htmx request?) and `make_response(push_url=, trigger=,
refresh=, redirect=, ...)` for the HX-* response headers. It was written for htmx 1/2: htmx 4's
`HX-Request-Type` (a full-body swap) and `HX-Source` (which element asked; `request.htmx.trigger`
reads the old HX-Trigger header and is empty under htmx 4) are read here or by the view itself.
"""
from flask import render_template, request, session
from htmx_flask import make_response
from jinja2_fragments.flask import render_blocks


def wants_fragment() -> bool:
    """An htmx request that swaps part of the page (not a history restore or a full-body swap)."""
    return (bool(request.htmx) and not request.htmx.history_restore_request
            and request.headers.get("HX-Request-Type", "partial") != "full")


def render(template: str, block: str, status: int = 200, *, oob_blocks: tuple[str, ...] = (),
           push_url: str | None = None, trigger: str | None = None, refresh: bool = False, **context):
    """The page for a normal request; for htmx the named block of the same template, plus the
    blocks in `oob_blocks` (which mark themselves hx-swap-oob) and the flashed messages, out of band."""
    if wants_fragment():
        body = render_blocks(template, [block, *oob_blocks], **context)
        if session.get("_flashes"):
            body += render_template("_messages.html", oob=True)
    else:
        body = render_template(template, **context)
    response = make_response(body, status, push_url=push_url, trigger=trigger, refresh=refresh)
    response.vary.add("HX-Request")
    return response
