"""Event contracts of the habilitation service (COADHA): RGC, habilitations, reviews (K10 to K15).

habilitation publishes on `TOPIC`, keyed by the aggregate each event is about (a habilitation's
or an organisation's id). Its events are declared here as the habilitation issues need them;
none is yet.
"""

TOPIC = "kairos.habilitation.v1"
