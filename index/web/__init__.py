"""Feeds and web pages as sources of articles: the guarded fetcher, bounded decompression, feeds, the sources file."""
