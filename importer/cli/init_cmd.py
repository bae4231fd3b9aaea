import click
@click.command()
def init() -> None:
    """Write a starter importer.yaml."""
