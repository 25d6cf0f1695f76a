"""Order identity: unguessable order numbers, order audit, lookup failures, pending changes.

Existing orders get fresh `secrets`-drawn numbers here, so an upgraded store's
numbers are as unguessable as a newly seeded one's.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from actions.orders import new_order_number

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.String(length=24), nullable=True))
    _number_existing_orders()
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.String(length=24), nullable=False)
        batch_op.create_index(batch_op.f("ix_orders_number"), ["number"], unique=True)

    op.create_table(
        "order_lookup_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("order_lookup_failures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_order_lookup_failures_scope_key_at", ["scope", "key", "at"], unique=False
        )

    op.create_table(
        "order_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=160), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("conversation", sa.String(length=128), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("order_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_audit_order_id"), ["order_id"], unique=False)

    op.create_table(
        "pending_changes",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("conversation", sa.String(length=128), nullable=False),
        sa.Column("actor", sa.String(length=160), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("new_address", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token"),
    )
    with op.batch_alter_table("pending_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_changes_conversation"), ["conversation"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pending_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_changes_conversation"))
    op.drop_table("pending_changes")
    with op.batch_alter_table("order_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_audit_order_id"))
    op.drop_table("order_audit")
    with op.batch_alter_table("order_lookup_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_order_lookup_failures_scope_key_at")
    op.drop_table("order_lookup_failures")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_number"))
        batch_op.drop_column("number")


def _number_existing_orders() -> None:
    orders = sa.table("orders", sa.column("id", sa.Integer()), sa.column("number", sa.String()))
    bind = op.get_bind()
    ids = bind.execute(sa.select(orders.c.id).where(orders.c.number.is_(None))).scalars().all()
    if not ids:
        return
    used: set[str] = set()
    rows = []
    for order_id in ids:
        number = new_order_number()
        while number in used:
            number = new_order_number()
        used.add(number)
        rows.append({"order_key": order_id, "new_number": number})
    bind.execute(
        orders.update()
        .where(orders.c.id == sa.bindparam("order_key"))
        .values(number=sa.bindparam("new_number")),
        rows,
    )
