import sys

from jina_mesh.bridge.main import main

sys.exit(main())
