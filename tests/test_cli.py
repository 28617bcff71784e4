"""CLI: seed-demo fills only an empty database; migrations build exactly the models' schema."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select

from crm import create_app
from crm.config import TestConfig
from crm.extensions import db
from crm.models import Lead, User


def test_seed_demo_refuses_a_database_that_has_users(runner):
    result = runner.invoke(args=["seed-demo", "--leads", "10"])
    assert result.exit_code != 0 and "only fills an empty one" in result.output


def test_seed_demo_fills_an_empty_database(tmp_path):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.db'}")
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["seed-demo", "--leads", "120", "--deals", "30"])
        assert result.exit_code == 0, result.output
        assert db.session.scalar(select(func.count(Lead.id))) == 120
        assert db.session.scalar(select(func.count(User.id))) == 7
        assert db.session.scalar(select(func.count(Lead.id)).where(Lead.lat.is_not(None))) > 100


def test_migrations_create_the_same_schema_as_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        with create_engine(url).connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == [], f"Models and migrations differ: {diff}"
