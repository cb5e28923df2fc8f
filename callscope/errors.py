"""callscope's exceptions. Messages are shown to users as they are: say what to do.

    CallscopeError
    ├── InvalidAudioError        corrupt, empty, unsupported or unreadable audio
    ├── ModelNotFoundError       a model is not installed or a local path is wrong
    ├── ModelError               a model is installed but broken (checksum, format)
    ├── StorageError             the store/database cannot be written or reached
    ├── NotFoundError            an id that does not exist
    ├── ConfigError              a setting or a config/KB file is invalid
    ├── WebhookSignatureError    an X-Twilio-Signature does not match
    └── JobError                 a pipeline stage failed (wraps the cause)
"""

from __future__ import annotations


class CallscopeError(Exception):
    """Base of all callscope errors; its message is shown to users."""


class InvalidAudioError(CallscopeError):
    """Audio that cannot be decoded: corrupt, empty, unsupported or wrong format."""


class ModelNotFoundError(CallscopeError):
    """A model is missing; the message names the path or package and the fix."""


class ModelError(CallscopeError):
    """A model exists but is broken (bad checksum, unreadable weights)."""


class StorageError(CallscopeError):
    """The data directory or database cannot be used."""


class NotFoundError(CallscopeError):
    """No object with that id."""


class ConfigError(CallscopeError):
    """A setting, config file or knowledge-base file is invalid."""


class WebhookSignatureError(CallscopeError):
    """A webhook request is not signed by Twilio."""


class JobError(CallscopeError):
    """A processing stage failed."""


class QueueFullError(StorageError):
    """Too many jobs are queued (backpressure); the API answers 503."""
