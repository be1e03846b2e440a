"""deploytools.yml: the model, its loader, and placeholder interpolation."""

from deploytools.config.loader import DEFAULT_CONFIG, EnvConfig, LoadedConfig, load_config
from deploytools.config.model import Config, json_schema

__all__ = ["DEFAULT_CONFIG", "Config", "EnvConfig", "LoadedConfig", "json_schema", "load_config"]
