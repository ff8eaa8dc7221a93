import sys

from nubo.cli import main

sys.exit(main())
