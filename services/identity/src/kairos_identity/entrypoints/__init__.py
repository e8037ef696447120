"""The identity service's entrypoints: HTTP routes, Kafka subscribers, schedulers."""
