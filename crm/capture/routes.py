"""Public web capture forms (/f/<slug>) and their admin pages (/admin/forms)."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from crm.capture.forms import CaptureSettingsForm
from crm.extensions import csrf, db, limiter
from crm.form_choices import FormView, select_choices
from crm.models.pools import CaptureForm
from crm.rendering import render
from crm.services import capture
from crm.services.owners import choice_label, owner_choices

bp = Blueprint("capture", __name__)


@bp.get("/f/<slug>")
def show_form(slug: str):
    """The public form; after a submission it thanks the visitor."""
    form = _public(slug)
    return render("capture/public.html", "capture_form", form=form, fields=capture.field_list(form),
                  values={}, errors={}, sent=request.args.get("sent") == "1")


@bp.post("/f/<slug>")
@csrf.exempt
@limiter.limit(lambda: current_app.config.get("CAPTURE_RATE_LIMIT", "5 per minute;50 per hour"))
def submit_form(slug: str):
    """Store a submission: origin-checked, honeypot, size-limited; bad input stores nothing."""
    form = _public(slug)
    if (request.content_length or 0) > capture.MAX_BYTES:
        abort(413, "That submission is too large.")
    if not capture.origin_allowed(form, _origin(), request.host_url):
        abort(403, "Submissions are accepted only from the page that shows this form.")
    if request.form.get(capture.HONEYPOT):
        return redirect(url_for("capture.show_form", slug=slug, sent=1), code=303)  # bots see success
    values, errors = capture.validate(form, request.form)
    if errors:
        return render("capture/public.html", "capture_form", status=422, form=form,
                      fields=capture.field_list(form), values=values, errors=errors, sent=False)
    capture.submit(db.session, form, values)
    db.session.commit()
    return redirect(url_for("capture.show_form", slug=slug, sent=1), code=303)


def _public(slug: str) -> CaptureForm:
    form = db.session.scalar(select(CaptureForm).where(CaptureForm.slug == slug))
    if form is None or not form.active:
        abort(404)
    return form


def _origin() -> str | None:
    if request.headers.get("Origin") and request.headers["Origin"] != "null":
        return request.headers["Origin"]
    referer = urlsplit(request.headers.get("Referer", ""))
    return f"{referer.scheme}://{referer.netloc}" if referer.netloc else None


# --- admin ------------------------------------------------------------------------------------

@bp.get("/admin/forms/")
@login_required
def forms():
    """Capture forms and a box to create one."""
    _admin()
    return _list()


def _list(error: str | None = None, status: int = 200):
    items = db.session.scalars(select(CaptureForm).order_by(CaptureForm.name)).all()
    return render("capture/index.html", "capture_list", status=status, forms=items, error=error)


@bp.post("/admin/forms/")
@login_required
def create_form():
    """Create a form with the usual fields; configure it on its page."""
    _admin()
    name = request.form.get("name", "").strip()
    if not name or len(name) > 120:
        return _list("A form needs a name of at most 120 characters.", 422)
    form = CaptureForm(name=name, slug=capture.new_slug(db.session, name),
                       fields=["person_name", "email", "phone", "company_name", "message"])
    db.session.add(form)
    db.session.commit()
    flash(f"Form “{name}” created.")
    return redirect(url_for("capture.edit_form", form_id=form.id), code=303)


@bp.route("/admin/forms/<int:form_id>", methods=["GET", "POST"])
@login_required
def edit_form(form_id: int):
    """Fields, default owner or pool, source label, allowed sites; the public URL and snippet."""
    _admin()
    record = db.get_or_404(CaptureForm, form_id)
    settings = CaptureSettingsForm(obj=FormView(record, {"owner": record.owner_choice}))
    settings.owner.choices = select_choices(_owner_options(record.owner_choice), blank="No owner")
    if settings.validate_on_submit():
        settings.populate_obj(record)
        record.owner_choice = settings.owner.data
        db.session.commit()
        flash("Form saved.")
        return redirect(url_for("capture.edit_form", form_id=record.id), code=303)
    public_url = url_for("capture.show_form", slug=record.slug, _external=True)
    return render("capture/edit.html", "capture_settings", status=422 if settings.errors else 200,
                  record=record, settings=settings, public_url=public_url,
                  owner_warning=capture.owner_warning(db.session, record),
                  fields=capture.field_list(record))


def _owner_options(current: str) -> list[tuple[str, str]]:
    """Users, lead pools and deal pools (a deal pool serves when leads are switched off), and the
    form's current owner even when no longer offered (an inactive user), so saving keeps it."""
    lead = owner_choices(db.session, current_user, "lead")
    deal_pools = [c for c in owner_choices(db.session, current_user, "deal") if c[0].startswith("pool:")]
    options = lead + [(v, label.replace("Pool:", "Deal pool:")) for v, label in deal_pools]
    if current and current not in (value for value, _ in options):
        options.insert(0, (current, choice_label(db.session, current)))
    return options


def _admin() -> None:
    if not current_user.is_admin:
        abort(403, "Only admins configure web forms.")
