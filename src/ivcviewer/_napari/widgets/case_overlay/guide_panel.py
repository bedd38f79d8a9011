"""The "Click landmarks" box of the Case overlay widget: the guide's text and buttons.

It shows the model's :class:`~ivcviewer.widget_models.LandmarkGuide` (redrawn on its
``changed`` listener); the dock connects the buttons, which act on napari layers.
"""

from __future__ import annotations

from qtpy.QtWidgets import (
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ....widget_models import CaseOverlayModel

ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"


class GuidePanel(QGroupBox):
    """Guide text, Start / Back / Next / Done, the IVC radius, Save / Load JSON."""

    def __init__(self, model: CaseOverlayModel, parent: QWidget) -> None:
        super().__init__("Click landmarks", parent)
        self._model = model
        self.guide_label = QLabel("Press Start to click the landmarks the case needs.", self)
        self.guide_label.setWordWrap(True)
        self.start_btn = QPushButton("Start", self)
        self.back_btn = QPushButton("Back", self)
        self.next_btn = QPushButton("Next", self)
        self.done_btn = QPushButton("Done", self)
        self.radius_spin = QDoubleSpinBox(self)
        self.radius_spin.setRange(2.0, 30.0)
        self.radius_spin.setDecimals(1)
        self.radius_spin.setSuffix(" mm")
        self.radius_spin.setValue(model.radius_mm)
        self.radius_spin.setToolTip("IVC radius given to the centreline points clicked next")
        self.save_btn = QPushButton(f"Save JSON{ELLIPSIS}", self)
        self.load_btn = QPushButton(f"Load JSON{ELLIPSIS}", self)
        g1 = QHBoxLayout()
        for b in (self.start_btn, self.back_btn, self.next_btn, self.done_btn):
            g1.addWidget(b)
        g2 = QHBoxLayout()
        g2.addWidget(QLabel("IVC radius", self))
        g2.addWidget(self.radius_spin)
        g2.addStretch(1)
        g2.addWidget(self.save_btn)
        g2.addWidget(self.load_btn)
        layout = QVBoxLayout(self)
        layout.addWidget(self.guide_label)
        layout.addLayout(g1)
        layout.addLayout(g2)
        model.guide.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Show the guide's text and enable the buttons that work now."""
        guide = self._model.guide
        self.guide_label.setText(guide.text())
        self.back_btn.setEnabled(guide.can_back)
        self.next_btn.setEnabled(guide.can_move)
        self.done_btn.setEnabled(guide.can_move)
