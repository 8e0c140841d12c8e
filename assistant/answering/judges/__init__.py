"""Faithfulness judges: the judge front (judge), the lexical judge and its units, entities and WordNet
resources, the trained claim-support model, and the LLM judge."""
