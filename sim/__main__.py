"""`python -m sim`: the command line."""

from sim.cli import script

if __name__ == "__main__":
    script()
