"""Formula cells in an imported file: counted and shown by the dry run, stored as text, never run by an export."""
from sqlalchemy import select

from crm.extensions import db
from crm.models import Lead
from crm.services.csv_cells import neutralize_cell
from tests.import_steps import run, upload

FORMULAS = ("Title,Email,Phone,Description\n"
            '"=HYPERLINK(""http://x.example"",""click"")",link@x.example,+46 70 123 45 67,plain\n'
            "Acme,acme@x.example,,@SUM(A1:A9)\n"
            "Beta,beta@x.example,-12,- a dash note\n"
            "=1+2,not-an-email,,\n")


def test_the_dry_run_counts_and_lists_formula_cells_that_the_run_imports_as_text(client, auth, app):
    auth.login()
    imp = upload(client, FORMULAS)
    dry = run(client, imp, mode="dry")
    assert dry["formulas"] == 2  # the rejected row's formula is not imported, phones and dashes are data
    assert dry["formula_cells"] == [[2, "Title", '=HYPERLINK("http://x.example","click")'], [3, "Description", "@SUM(A1:A9)"]]
    page = client.get(f"/import/{imp.id}").get_data(as_text=True)
    assert "2 formula cells" in page and "would be imported as text" in page
    assert "=HYPERLINK(&#34;http://x.example&#34;,&#34;click&#34;)" in page

    real = run(client, imp)
    assert (real["formulas"], real["counts"]["create"]) == (2, 3)
    link = db.session.scalar(select(Lead).where(Lead.email == "link@x.example"))
    acme = db.session.scalar(select(Lead).where(Lead.email == "acme@x.example"))
    beta = db.session.scalar(select(Lead).where(Lead.email == "beta@x.example"))
    assert link.title == "'=HYPERLINK(\"http://x.example\",\"click\")" and link.phone == "+46 70 123 45 67"
    assert acme.description == "'@SUM(A1:A9)" and beta.description == "- a dash note"
    # What an export writes for them: the stored text as is, which a spreadsheet shows and never runs.
    assert neutralize_cell(link.title) == link.title and neutralize_cell(acme.description) == acme.description
    assert "were imported as text" in client.get(f"/import/{imp.id}").get_data(as_text=True)
