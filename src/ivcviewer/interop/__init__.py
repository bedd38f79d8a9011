"""DICOM objects in and out: Segmentation (SEG), Structured Report (SR TID 1500) and RTSTRUCT.

Qt-free. Importing this package imports nothing else: each module (:mod:`.codes`,
:mod:`.seg_write`, ...) loads highdicom itself, so ``import ivcviewer`` stays light.
"""
