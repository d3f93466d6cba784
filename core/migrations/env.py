"""Alembic environment: runs on the connection the platform hands over, or on the URL from the environment."""
from alembic import context
from sqlalchemy import pool

from minqing.core.db import database_url, make_engine
from minqing.core.models import Base

target_metadata = Base.metadata


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(database_url())
    engine.pool = pool.NullPool(engine.pool._creator)
    with engine.begin() as connection:
        run(connection)
