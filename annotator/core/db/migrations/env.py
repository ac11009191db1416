"""Alembic environment: migrations run on the connection the store hands over."""

from alembic import context

from annotator.core.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations through annotator.core.db.schema, which passes a connection.")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
