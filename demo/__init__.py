"""`clearance demo`: the real bot, a stand-in for Slack and a Slack-like page, on 127.0.0.1.

Nothing in bot/, workflows/, storage/ or pages/ imports this package (tests/test_layering.py);
`clearance demo` reaches it through one lazy import in bot/cli.py.
"""
