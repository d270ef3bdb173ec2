"""`incidents completion bash|zsh|fish`: the shell's completion script, from click."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_INCIDENTS_COMPLETE"


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> int:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    bash:  eval "$(incidents completion bash)"    in ~/.bashrc
    zsh:   eval "$(incidents completion zsh)"     in ~/.zshrc
    fish:  incidents completion fish > ~/.config/fish/completions/incidents.fish

    It completes commands, options, incident ids (open ones, from the cache), component
    ids, people's handles and runbook slugs.
    """
    from click.shell_completion import get_completion_class

    root = ctx.find_root().command
    completer = get_completion_class(shell)
    assert completer is not None  # every name in SHELLS is one of click's
    script = completer(root, {}, "incidents", COMPLETE_VAR).source()
    click.echo(script, nl=not script.endswith("\n"))
    return 0
