"""Public pages and operator reports: adapters that read the record through workflows.public_record
and render it with autoescaped Jinja2 templates. No Slack, no database here (tests/test_layering.py)."""
