"""The GitHub face of plan: the Markdown plan for the step summary and the one PR comment."""
