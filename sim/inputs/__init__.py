"""The inputs: council data of 2014, the parameter registry and scenario files. Imports nothing above it."""
