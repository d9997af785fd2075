"""Who is who in Slack: names, roles, user groups, channel members, the bot itself."""
