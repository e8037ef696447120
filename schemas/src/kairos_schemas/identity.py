"""Event contracts of the identity service: adhesions, accounts, sessions (K1 to K9).

identity publishes on `TOPIC`, keyed by the aggregate each event is about (an adhesion's or an
account's id). Its events are declared here as the identity issues need them; none is yet.
"""

TOPIC = "kairos.identity.v1"
