"""`python -m model_hospital.clinic.probegen`: write or check the probe suites and their cards."""

import sys

from model_hospital.clinic.probegen import main

sys.exit(main())
