"""DICOM objects and label files that travel between ivcviewer and other tools."""
