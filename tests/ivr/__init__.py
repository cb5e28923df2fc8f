"""IVR tests (a package so helper imports and test names stay unambiguous)."""
