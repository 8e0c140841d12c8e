"""Benchmarks and training recipes; run each as a module from the repository root:
``python -m benchmarks.<name>`` (see docs for what each measures)."""
