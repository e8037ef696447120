"""Kairos identity service.

Organisations (adhesion, validation, suspension), accounts with provisional credentials, login
and sessions, JWKS.
"""
