import sys

from jina.cli import main

sys.exit(main())
