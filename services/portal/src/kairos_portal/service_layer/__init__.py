"""What the portal does for a page, without HTTP transport: sign in and out, keep the web
session's tokens fresh, call a service as the signed-in person."""
