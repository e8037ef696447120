"""The habilitation service's entrypoints: HTTP routes, Kafka subscribers, schedulers."""
