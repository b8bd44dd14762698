# End-to-end tests import the modules by their package names.
