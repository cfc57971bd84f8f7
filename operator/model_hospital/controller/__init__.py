"""The operator: kopf handlers over pure reconcilers that turn patients and treatments into stage Jobs.

Importing this package loads no ML library (a test checks the import graph): the
controller knows stages only by name and by their input/result models in `api`.
"""
