"""Kairos declaration service.

The seven declaration kinds, their rules and deadlines, access decided from events, integrator
topics.
"""
