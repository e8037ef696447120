"""What the portal knows without any I/O: the services' problems read for a form, web sessions,
who is signed in (from the token's claims), and how things are said in French."""
