import sys

from irl_gan.cli import main

sys.exit(main())
