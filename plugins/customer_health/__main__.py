import sys

from customer_health.cli import main

sys.exit(main())
