"""What a change means in Slack: events into outbox messages, and the words people see."""
