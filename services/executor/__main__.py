import sys

from jina_mesh.services.executor.main import main

sys.exit(main())
