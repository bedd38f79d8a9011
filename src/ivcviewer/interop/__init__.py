"""DICOM objects in and out: Segmentation (SEG), Structured Report (SR TID 1500), RTSTRUCT.

Qt-free core. highdicom is imported only inside the modules of this package, never by
``import ivcviewer``.
"""
