"""The declaration service's entrypoints: HTTP routes, Kafka subscribers, schedulers."""
