"""Kairos identity service: organisations (adhesion, validation, suspension), accounts with provisional credentials, login and sessions, JWKS."""
