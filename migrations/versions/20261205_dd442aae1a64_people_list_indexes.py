"""People list indexes: by name for the pages, trigrams for searching on PostgreSQL

Revision ID: dd442aae1a64
Revises: ad8bc17f05bd
Create Date: 2026-12-05 20:18:58.234676

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'dd442aae1a64'
down_revision = 'ad8bc17f05bd'
branch_labels = None
depends_on = None

# Searching /admin for part of a name, e-mail or employee number (lower(column) LIKE '%…%')
# uses these on PostgreSQL; SQLite reads the table, which is quick enough at its sizes.
# They are expression indexes, which reflection skips: the models need not declare them.
SEARCHED = ("full_name", "email", "employee_number")


def upgrade():
    # Not in batch mode: rebuilding users on SQLite would lose the index on lower(email).
    op.create_index('ix_users_full_name_id', 'users', ['full_name', 'id'], unique=False)
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():  # a database user who may not add it: search stays slower
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError:
        return
    for column in SEARCHED:
        bind.exec_driver_sql(
            f"CREATE INDEX ix_users_{column}_trgm ON users USING gin (lower({column}) gin_trgm_ops)"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for column in SEARCHED:
            op.execute(f"DROP INDEX IF EXISTS ix_users_{column}_trgm")
    op.drop_index('ix_users_full_name_id', table_name='users')
