"""Security headers on every response: a strict Content-Security-Policy (no inline script or style:
JavaScript lives in static/js, data reaches it through data-* attributes and JSON script blocks),
no framing, no MIME sniffing, no referrer beyond this site, and HSTS when cookies are Secure."""
from urllib.parse import urlsplit

from flask import Flask, Response

MAX_LOCATION = 4000  # proxies and servers refuse response headers of 8 KB and more


def content_security_policy(tile_url: str) -> str:
    """The policy; map tiles from MAP_TILE_URL's host are the one outside source (images only)."""
    images = ["'self'", "data:"]
    parts = urlsplit(tile_url.replace("{s}", "*"))
    if parts.scheme in ("http", "https") and parts.netloc:
        images.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", f"img-src {' '.join(images)}",
        "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'none'",
        "form-action 'self'", "frame-ancestors 'none'",
    ])


def register_security_headers(app: Flask) -> None:
    policy = content_security_policy(app.config.get("MAP_TILE_URL", ""))
    headers = {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), payment=(), usb=()",
    }
    if app.config.get("COOKIE_SECURE"):
        headers["Strict-Transport-Security"] = "max-age=31536000"

    @app.after_request
    def secure_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        location = response.headers.get("Location", "")
        if len(location) > MAX_LOCATION:  # a huge redirect header breaks the connection: drop the query
            response.headers["Location"] = location.split("?", 1)[0][:MAX_LOCATION] or "/"
        return response
