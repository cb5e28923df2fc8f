"""faq drafts: answer_sources (extractive or generated, per language)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 21:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('faq_drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer_sources', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('faq_drafts', schema=None) as batch_op:
        batch_op.drop_column('answer_sources')
