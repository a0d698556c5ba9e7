"""Entries: whether the work was real-time contact (interactive), and the digest of the message text

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

Entries logged before this revision keep interactive NULL (not said): the old rule read a call
from the activity, which also counted voicemails, so it is not carried over. RPM months that
need their call re-stated get it from a new entry or the log form's checkbox.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('time_entries') as batch_op:
        batch_op.add_column(sa.Column('interactive', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('source_digest', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('time_entries') as batch_op:
        batch_op.drop_column('source_digest')
        batch_op.drop_column('interactive')
