"""Event contracts of the declaration service: the seven declaration kinds (K16 to K22).

declaration publishes on `TOPIC`, the integrators' topic, keyed by job seeker and session so that
an exit never overtakes its entry (K21). Its events are declared here as the declaration issues
need them; none is yet.
"""

TOPIC = "kairos.declaration.v1"
