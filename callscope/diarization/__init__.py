"""callscope.diarization"""
