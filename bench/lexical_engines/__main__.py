"""`python -m bench.lexical_engines [--quick] [--million] [--questions DIR] [--depth N]`."""

import sys

from bench.lexical_engines import main

if __name__ == "__main__":
    sys.exit(main())
