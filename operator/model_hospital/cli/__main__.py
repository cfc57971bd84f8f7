import sys

from model_hospital.cli import main

sys.exit(main())
