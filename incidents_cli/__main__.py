from __future__ import annotations

from incidents_cli.cli import main

main()
