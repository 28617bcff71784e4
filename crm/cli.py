"""Flask CLI commands: `flask --app wsgi seed-demo`, `seed-if-empty`, `create-database`."""
import click
from flask import Flask
from sqlalchemy import create_engine, make_url, text

from crm.extensions import db
from crm.services.demo import database_is_empty, seed_demo


def register_commands(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--leads", default=2000, show_default=True, help="How many leads to create.")
    @click.option("--deals", default=500, show_default=True, help="How many deals to create.")
    def seed_demo_command(leads: int, deals: int) -> None:
        """Fill an empty database with believable demo data (password: demo)."""
        if not database_is_empty(db.session):
            raise click.ClickException("The database already has users; seed-demo only fills an empty one.")
        seed_demo(db.session, leads=leads, deals=deals)
        db.session.commit()
        click.echo(f"Seeded {leads:,} leads and {deals:,} deals. Log in as admin@example.com / demo.")

    @app.cli.command("seed-if-empty")
    def seed_if_empty_command() -> None:
        """Seed the demo data only when the database has no users (used by `make run`)."""
        if database_is_empty(db.session):
            seed_demo(db.session)
            db.session.commit()
            click.echo("Demo data created. Log in as admin@example.com / demo.")

    @app.cli.command("create-database")
    def create_database_command() -> None:
        """Create the PostgreSQL database DATABASE_URL names if it does not exist (SQLite: nothing to do)."""
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        if url.get_backend_name() != "postgresql":
            return
        server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}):
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
                click.echo(f"Created the database {url.database}.")
        server.dispose()
