"""The operator's settings: environment variables and the TOML policy file, checked at start."""
