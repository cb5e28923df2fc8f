"""callscope.search: Full-text search over the stored transcripts (English and Mandarin)."""
