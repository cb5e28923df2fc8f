"""self-service: conversations across channels, their messages, help-center feedback, SMS opt-outs

Revision ID: 0003_conv
Revises: 0001
Create Date: 2026-12-06 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_conv'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('contact', sa.String(length=128), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.Column('handover', sa.Boolean(), nullable=False),
    sa.Column('intent', sa.String(length=128), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversations_contact'), ['contact'], unique=False)
        batch_op.create_index('ix_conversations_channel_started', ['channel', 'started_at'], unique=False)

    op.create_table('conversation_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('direction', sa.String(length=4), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('entry_id', sa.String(length=128), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('conversation_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_messages_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_messages_external_id'), ['external_id'], unique=False)

    op.create_table('help_feedback',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('entry_id', sa.String(length=128), nullable=False),
    sa.Column('helpful', sa.Boolean(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('conversation_id', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('help_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_help_feedback_entry_id'), ['entry_id'], unique=False)

    op.create_table('messaging_opt_outs',
    sa.Column('contact', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('contact')
    )


def downgrade() -> None:
    op.drop_table('messaging_opt_outs')
    with op.batch_alter_table('help_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_help_feedback_entry_id'))
    op.drop_table('help_feedback')
    with op.batch_alter_table('conversation_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_messages_external_id'))
        batch_op.drop_index(batch_op.f('ix_conversation_messages_conversation_id'))
    op.drop_table('conversation_messages')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_channel_started')
        batch_op.drop_index(batch_op.f('ix_conversations_contact'))
    op.drop_table('conversations')
