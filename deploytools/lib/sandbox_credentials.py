"""The sandbox's own AWS keys: moto accepts any; these are never real ones.

In lib so that a head start (lib/head_start.py) can give them to an early `terraform plan`
without a recipe ever holding a key.
"""

SANDBOX_CREDENTIALS = ("sandbox", "sandbox")
