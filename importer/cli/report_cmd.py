import click
@click.command()
def report() -> None:
    """Spending per category."""
