"""The service use cases: commands, saves by reaction and the exactly-once daily post."""
