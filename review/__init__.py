"""Every human decision after submission: pre-review, completeness and supplements, verification, funding."""
