"""Recordings: decoding audio and storing every call once, safely."""
