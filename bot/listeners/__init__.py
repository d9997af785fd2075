"""Slack listeners: each turns a command, a click or a form into a domain command and answers the person."""
