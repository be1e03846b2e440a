from deploytools.cli import run

run()
