"""Answering: questions in, cited and verified answers out.

``pipeline`` runs the stages (rewrite → retrieve → draft → attach citations → verify) and emits
events; ``engines`` is the seam for drafting (``extractive``, and the LLM engines in
``generation``); ``citations`` owns the [n] format, attaching and checking; ``judge`` decides
whether a passage supports a sentence; ``answer`` holds the typed records.
"""
