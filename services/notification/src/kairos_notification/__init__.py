"""Kairos notification service.

The French e-mails the rules call for, sent once per event and recipient, retried and tracked.
"""
