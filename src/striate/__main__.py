import sys

from striate.cli import main

sys.exit(main())
