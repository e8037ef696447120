"""The Kairos portal: the web application OF staff use in a browser, in French (SPEC K25).

A backend-for-frontend: server-rendered pages that call the four services' public HTTP APIs
with the person's own token (kept server-side), and show their answers; it decides no rule.
"""
