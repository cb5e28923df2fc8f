"""callscope.api: the REST API and the QA dashboard (FastAPI)."""

from callscope.api.app import ApiOptions, create_app
from callscope.api.search import index_recording, reindex_all, search_transcripts

__all__ = ["ApiOptions", "create_app", "index_recording", "reindex_all", "search_transcripts"]
