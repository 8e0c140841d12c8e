"""Reading articles from files and records: loaders per format, the safe reader and its limits,
PDF text, record fields."""
