"""The composition root and the Bolt app: what is built once and how the parts are joined."""
