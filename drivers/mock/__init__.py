"""The virtual lab: SCPI servers on 127.0.0.1 in front of a transmon physics engine.

Reached the way a real lab is reached, over VISA sockets, so tests exercise the real driver code.
"""
