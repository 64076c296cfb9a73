"""The console adapter: the same bot in a terminal, no tokens needed."""
