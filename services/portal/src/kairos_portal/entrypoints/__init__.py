"""The portal's pages (FastAPI routes rendering Jinja2 templates) and its HTTP safeguards."""
