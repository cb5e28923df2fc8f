"""callscope.api: the REST API and the QA dashboard (FastAPI), HTTP only."""

from callscope.api.app import ApiOptions, create_app

__all__ = ["ApiOptions", "create_app"]
