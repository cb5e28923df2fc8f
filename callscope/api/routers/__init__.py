"""One router per resource; :func:`callscope.api.app.create_app` includes them all."""
