"""Event contracts of the notification service: e-mails sent, retried, undeliverable (K23, K24).

notification publishes on `TOPIC`, keyed by the notification's id. Its events are declared here
as the notification issues need them; none is yet.
"""

TOPIC = "kairos.notification.v1"
