"""The embedded AWS: moto's server, emulators for what moto lacks, a loopback registry.

A step never imports this package: it only ever sees endpoints.
"""
