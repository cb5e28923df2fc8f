"""Who spoke when: dual-channel calls by channel, mono calls by speaker embeddings
(or a local pyannote pipeline); words and roles (agent/caller) assigned to speakers.
"""

from callscope.diarization.diarize import diarize, diarize_file
from callscope.diarization.options import DiarizeOptions
from callscope.diarization.roles import assign_roles
from callscope.diarization.speakers import assign_speakers

__all__ = ["DiarizeOptions", "assign_roles", "assign_speakers", "diarize", "diarize_file"]
