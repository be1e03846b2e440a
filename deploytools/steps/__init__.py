"""One module per pipeline step. A step never imports the CLI or another step.

A step receives what it needs as arguments (an AwsContext, the EnvConfig, a Reporter, plain
values produced by earlier steps) and returns frozen values. It raises a DeployError
subclass with the reason when it fails; the pipeline composes steps and the CLI exits.
"""
