"""Typed models for the YAML in ``include/config`` and one loader that explains errors."""
from customer_health.config.loader import ConfigError, config_version, load_yaml

__all__ = ["ConfigError", "config_version", "load_yaml"]
