"""The declaration domain: rules, value objects and events. Pure: imports no I/O library."""
