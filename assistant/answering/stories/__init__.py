"""What a question asks about time and the policy each intent gets: the latest report, a date
window, a story's timeline, reports that differ, and the digest of what is new."""
