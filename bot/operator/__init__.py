"""The operator's commands behind `clearance` (bot/cli.py): audit, export, public pages, usage."""
