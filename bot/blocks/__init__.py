"""Block Kit builders: pure functions from domain objects to the messages and views people see."""
