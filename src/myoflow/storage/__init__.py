"""Recordings: HDF5 writer and reader, recovery, importers and exporters."""
