"""Timed follow-ups inside `clearance serve`: the sweep and what it sends."""
