"""callscope.transcription"""
