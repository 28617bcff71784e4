"""Import headers in the app's languages: a field's translated label names its column."""
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from crm import create_app
from crm.config import TestConfig
from crm.extensions import db
from crm.i18n import babel
from crm.services.importing import guess_mapping
from crm.services.importing.mapping import normalize_label

TRANSLATED = {"sv": {"Company": "Företag", "Contact person": "Kontaktperson", "Phone": "Telefon", "City": "Ort"},
              "fa": {"Company": "شرکت", "Phone": "تلفن", "Status": "وضعیت"},
              "fr": {"Phone": "Téléphone", "Description": "Description", "Country": "Pays"},
              "it": {"Company": "Società", "Source": "Fonte"}}


def catalogs(folder) -> str:
    """Compiled catalogs with a few field labels, as the i18n work will ship them."""
    for language, messages in TRANSLATED.items():
        catalog = Catalog(locale=language)
        for english, translated in messages.items():
            catalog.add(english, translated)
        (folder / language / "LC_MESSAGES").mkdir(parents=True)
        with open(folder / language / "LC_MESSAGES" / "messages.mo", "wb") as f:
            write_mo(f, catalog)
    return str(folder)


def test_headers_in_any_language_of_the_app_map_to_their_field(app, database_url, tmp_path):
    translated = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url,
                            BABEL_TRANSLATION_DIRECTORIES=catalogs(tmp_path))
    headers = ["Företag", "KONTAKTPERSON", "Téléphone", "Ort", "Pays", "وضعیت", "Fonte", "E-post", "Società"]
    babel.domain_instance.cache.clear()  # Flask-Babel keeps one catalog cache for every app in the process
    try:
        with translated.app_context():
            mapping = guess_mapping(db.session, "lead", headers)
            db.engine.dispose()
    finally:
        babel.domain_instance.cache.clear()
    assert [mapping[str(i)] for i in range(len(headers))] == [
        "company_name", "person_name", "phone", "city", "country", "status", "source", "", ""]  # one column each


def test_labels_compare_without_case_accents_or_punctuation():
    assert normalize_label("Téléphone ") == normalize_label("TELEPHONE") == "telephone"
    assert normalize_label("Società") == "societa" and normalize_label("تلفن") == "تلفن"
