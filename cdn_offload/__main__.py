import sys

from cdn_offload.cli import main

sys.exit(main())
