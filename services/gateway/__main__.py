import sys

from jina_mesh.services.gateway.main import main

sys.exit(main())
