"""callscope: self-hosted call-center speech analytics and voice IVR.

Fully local (models ship on PyPI or come from a local path), English and Mandarin.
"""

__version__ = "0.1.0"
