"""automatic QA: results per call, reviewer overrides, saved scorecards; knowledge-base versions

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 12:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('qa_results',
    sa.Column('recording_id', sa.String(length=64), nullable=False),
    sa.Column('scorecard', sa.String(length=64), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('failed', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('evaluated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('recording_id')
    )
    with op.batch_alter_table('qa_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qa_results_scorecard'), ['scorecard'], unique=False)
        batch_op.create_index(batch_op.f('ix_qa_results_score'), ['score'], unique=False)

    op.create_table('qa_overrides',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('recording_id', sa.String(length=64), nullable=False),
    sa.Column('criterion', sa.String(length=64), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reviewer', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('qa_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qa_overrides_recording_id'), ['recording_id'], unique=False)

    op.create_table('kb_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kb_path', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('entry_id', sa.String(length=128), nullable=True),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kb_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_versions_created_at'), ['created_at'], unique=False)

    op.create_table('qa_rules',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('scorecard', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('qa_rules')
    with op.batch_alter_table('kb_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_versions_created_at'))
    op.drop_table('kb_versions')
    with op.batch_alter_table('qa_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qa_overrides_recording_id'))
    op.drop_table('qa_overrides')
    with op.batch_alter_table('qa_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qa_results_score'))
        batch_op.drop_index(batch_op.f('ix_qa_results_scorecard'))
    op.drop_table('qa_results')
