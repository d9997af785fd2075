"""Directives in Slack: who they are for, where they arrived, and who has acknowledged."""
