"""The `paperboy` command: the composition root that wires configured adapters to the core.

It sits outside `bot/` because it sees both sides: the core (`bot`) imports no adapter, and
this package imports a platform's adapter only when that platform is started.
"""
