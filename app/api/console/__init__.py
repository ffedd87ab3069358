"""The web console's files: one page template and its static script and style sheet."""
