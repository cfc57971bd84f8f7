"""The medicine: probe suites, judges, statistics, severity, recipes."""
