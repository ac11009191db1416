"""Alembic environment: migrations run on the connection the store hands over."""

from alembic import context

from annotator.core.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations through annotator.core.db.schema, which passes a connection.")
on_step = context.config.attributes.get("on_step")  # told after each revision (an upgrade's progress)
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    on_version_apply=[lambda **_: on_step()] if on_step is not None else [],
)
with context.begin_transaction():
    context.run_migrations()
