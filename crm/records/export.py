"""The list's Export: the same filter (or selection) as the page, as CSV (streamed) or XLSX."""
from flask import Response, abort, request, send_file, stream_with_context
from flask_login import current_user

from crm.extensions import db
from crm.i18n import _
from crm.models.mixins import utcnow
from crm.services import export
from crm.services.filters import filtered_select, parse_filter
from crm.services.record_types import RecordType
from crm.services.sorting import sorted_select

FORMATS = ("csv", "xlsx")


def export_records(rtype: RecordType):
    """Every record of the list's filter (`ids=` for a selection) in the importer's columns."""
    kind = request.args.get("format", "csv")
    if kind not in FORMATS:
        abort(400, _("Export as csv or xlsx."))
    flt = parse_filter(db.session, rtype, request.args, current_user)
    if flt.errors:
        abort(400, " ".join(map(str, flt.errors)))
    _key, stmt = sorted_select(filtered_select(rtype, flt, current_user), rtype, request.args.get("sort", ""))
    name = f"{rtype.plural}-{utcnow():%Y%m%d-%H%M}.{kind}"
    lines = export.rows(db.session, rtype, stmt)
    if kind == "xlsx":
        return send_file(export.xlsx_file(lines, rtype.plural), download_name=name, as_attachment=True,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response = Response(stream_with_context(export.csv_chunks(lines)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
