import sys

from workcred.cli import main

sys.exit(main())
