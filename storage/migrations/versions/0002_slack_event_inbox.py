"""Slack events: an inbox of message events still to handle, replacing the list of handled ids

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('slack_events',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_slack_events'))
    )
    op.create_index('ix_slack_events_status_received', 'slack_events', ['status', 'received_at'], unique=False)
    # Ids handled before the inbox existed still stop their retries.
    op.execute(
        "INSERT INTO slack_events (event_id, received_at, status, attempts, processed_at) "
        "SELECT event_id, received_at, 'done', 0, received_at FROM processed_slack_events"
    )
    op.drop_table('processed_slack_events')


def downgrade() -> None:
    op.create_table('processed_slack_events',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_processed_slack_events'))
    )
    op.execute("INSERT INTO processed_slack_events (event_id, received_at) SELECT event_id, received_at FROM slack_events WHERE status = 'done'")
    op.drop_index('ix_slack_events_status_received', table_name='slack_events')
    op.drop_table('slack_events')
