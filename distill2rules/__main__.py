"""``python -m distill2rules``: the same command line as ``distill2rules``."""

from distill2rules.cli.main import main

if __name__ == "__main__":
    main()
