"""callscope.ivr: a bilingual (English/Mandarin) Twilio voice IVR that answers routine questions.

Modules: ``kb`` (the knowledge-base file), ``matcher`` (what the caller asked), ``flow``
(the call flow), ``routes`` (FastAPI webhooks: ``router``, mounted by ``callscope.api.app.create_app``), ``deps``
(overridable dependencies), ``recording`` (recording callbacks and the ``RecordingSink``
protocol), ``metrics`` (``compute_ivr_metrics``), ``simulator`` (phone-less calls).
Only the light knowledge-base API is imported here; the web parts load on demand.
"""

from callscope.ivr.kb import (
    KnowledgeBase,
    KnowledgeBaseSource,
    load_knowledge_base,
    save_knowledge_base,
)

__all__ = ["KnowledgeBase", "KnowledgeBaseSource", "load_knowledge_base", "save_knowledge_base"]
