"""Getting messages to Slack: the outbox sender, posts in doubt, Home tabs, files."""
