"""Alembic migrations (run by :func:`callscope.db.init_schema`) and the whole schema they build.

Importing this package imports every unit's ``tables`` module, so :data:`metadata` holds
every table; a new unit with tables adds its import here.
"""

from __future__ import annotations

from callscope.auth import tables as _auth_tables
from callscope.db import Base
from callscope.insights import tables as _insights_tables
from callscope.ivr import tables as _ivr_tables
from callscope.jobs import tables as _jobs_tables
from callscope.qa import tables as _qa_tables
from callscope.recordings import tables as _recordings_tables
from callscope.search import tables as _search_tables
from callscope.selfservice import tables as _selfservice_tables

TABLE_MODULES = (
    _recordings_tables,
    _jobs_tables,
    _ivr_tables,
    _insights_tables,
    _search_tables,
    _qa_tables,
    _auth_tables,
    _selfservice_tables,
)
metadata = Base.metadata
