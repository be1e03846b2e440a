"""Pure helpers shared by steps and checks: file parsers, retry/poll, the HTTP prober, image
references and AWS error wording. Imports nothing above deploytools.config and deploytools.errors.
"""
