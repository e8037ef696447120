"""Kairos notification service: the French e-mails the rules call for, sent once per event and recipient, retried and tracked."""
