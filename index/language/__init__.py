"""Text as language: sentence splitting, content words and stems, dates in questions, recency."""
