"""``python -m helpers ...``: the workbook's command line (:mod:`helpers.cli`)."""

import sys

from helpers.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
