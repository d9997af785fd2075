"""licences: the owner unit, the unit of the service responsible for the tool (issue 19)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 16:00:00

One line the final approver types on the licence form ("Major Crimes"), the inventory's "owner
unit" column. Licences granted before it get "" (the inventory shows it blank): nobody said one,
and no unit can be guessed from the record. The server default stays, as 0004's does: a row
inserted by a replica still running the code before this one (a rolling deploy) gets "" too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("licences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_unit", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("licences", schema=None) as batch_op:
        batch_op.drop_column("owner_unit")
