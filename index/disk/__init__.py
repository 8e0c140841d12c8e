"""Files on disk: checksummed and synced writes, the index's write lock."""
