"""``python -m udemy360``: the same as the ``udemy360`` command."""

from __future__ import annotations

from udemy360.cli import main

if __name__ == "__main__":
    main()
