"""Answer engines: the protocol (base), the extractive engine with its candidates, selector, answer
typing, answer model and reader, and the LLM engine."""
