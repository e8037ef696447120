"""The notification service's entrypoints: HTTP routes, Kafka subscribers, schedulers."""
