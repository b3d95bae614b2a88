"""Runtime: wire protocol, daemon, job store, scheduler, sessions, primitives, mitigation, programs, client.

Built by the runtime issues; empty for now.
"""
