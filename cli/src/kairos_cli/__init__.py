"""``kairos``: the operators' command line (see :mod:`kairos_cli.main`)."""
