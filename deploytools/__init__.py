"""deploytools: push-to-deploy for containerized ML and web apps on AWS."""

__version__ = "0.1.0"
