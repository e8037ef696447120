"""The notification service's handlers for commands and events, and its unit of work."""
