"""The administration of a connection, beside its runs: check it, set it up, deactivate it.

These talk to both APIs but never take the run lease nor touch the run machinery: ``check``
reads only, ``setup`` creates or repairs the 360Learning integration and records it.
"""
