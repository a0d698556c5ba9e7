"""`python -m bot.cli`: the same as the `ccmbot` script."""

from __future__ import annotations

from bot.cli import main

if __name__ == "__main__":
    main()
