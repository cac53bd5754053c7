"""The login window (G1): server, app ID, account, token or token URL, remember.

It only talks to the bridge: ``bridge.login(...)`` starts the attempt, ``login_failed``
brings back a sentence for the code, ``logged_in`` closes the window (the app shows the main
window). The form stays responsive while connecting; the login can be retried at once.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .bridge import Bridge
from .icons import icon
from .settings import AppSettings

__all__ = ["LoginWindow"]


class LoginWindow(QWidget):
    def __init__(self, bridge: Bridge, settings: AppSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self.settings = settings
        self.setWindowTitle("Sigphone — Log in")
        self.setWindowIcon(icon("app"))
        self.setMinimumWidth(420)

        title = QLabel("<h2>Sigphone</h2>Log in to your signaling server.")
        title.setTextFormat(Qt.TextFormat.RichText)

        self.server = QLineEdit(settings.text("login/server"))
        self.server.setPlaceholderText("ws://host:9000 or wss://host")
        self.app_id = QLineEdit(settings.text("login/app_id"))
        self.app_id.setPlaceholderText("the app ID your administrator gave you")
        self.account = QLineEdit(settings.text("login/account"))
        self.account.setPlaceholderText("e.g. alice")
        self.token = QLineEdit(settings.text("login/token"))
        self.token.setPlaceholderText("a token, or http://host:9001/api/token")
        self.token.setToolTip(
            "Paste a login token, or give the server's token endpoint URL: the token is "
            "fetched for the account above. A certificate is never needed here."
        )
        self.remember = QCheckBox("&Remember these details")
        self.remember.setChecked(settings.flag("login/remember"))
        for widget, name in (
            (self.server, "Server address"),
            (self.app_id, "App ID"),
            (self.account, "Account"),
            (self.token, "Token or token URL"),
            (self.remember, "Remember these details"),
        ):
            widget.setAccessibleName(name)

        form = QFormLayout()
        form.addRow("&Server:", self.server)
        form.addRow("App &ID:", self.app_id)
        form.addRow("&Account:", self.account)
        form.addRow("&Token:", self.token)
        form.addRow("", self.remember)
        for row, field in enumerate((self.server, self.app_id, self.account, self.token)):
            label = form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget()
            if isinstance(label, QLabel):
                label.setBuddy(field)

        self.status = QLabel("")
        self.status.setAccessibleName("Login status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.button = QPushButton(icon("login"), "&Log in")
        self.button.setObjectName("callButton")
        self.button.setAccessibleName("Log in")
        self.button.setDefault(True)
        self.button.clicked.connect(self.submit)
        for field in (self.server, self.app_id, self.account, self.token):
            field.returnPressed.connect(self.submit)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

        bridge.status_changed.connect(self._on_status)
        bridge.login_failed.connect(self._on_failed)
        bridge.logged_in.connect(self._on_logged_in)
        bridge.logged_out.connect(self._on_logged_out)
        (self.account if not self.account.text() else self.button).setFocus()

    def submit(self) -> None:
        if self.bridge.status == "connecting":
            return
        values = [f.text().strip() for f in (self.server, self.app_id, self.account, self.token)]
        missing = [n for n, v in zip(("server", "app ID", "account", "token"), values, strict=True)
                   if not v]  # fmt: skip
        if missing:
            self._show_error(f"Please fill in the {', '.join(missing)}.")
            return
        self._remember()
        self.bridge.login(*values)

    def _remember(self) -> None:
        keep = self.remember.isChecked()
        self.settings.set("login/remember", keep)
        for key, field in (
            ("login/server", self.server),
            ("login/app_id", self.app_id),
            ("login/account", self.account),
            ("login/token", self.token),
        ):
            self.settings.set(key, field.text().strip() if keep else "")
        self.settings.sync()

    def _on_status(self, status: str) -> None:
        connecting = status == "connecting"
        self.button.setEnabled(not connecting)
        self.button.setText("Connecting…" if connecting else "&Log in")
        if connecting:
            self.status.setObjectName("")
            self.status.setText(f"Connecting to {self.server.text().strip()}…")
            self._restyle()

    def _on_failed(self, _code: int, text: str) -> None:
        self._show_error(text)

    def _on_logged_in(self, _account: str) -> None:
        self.status.setText("")
        self.hide()

    def _on_logged_out(self, code: int, text: str) -> None:
        if code != 101:  # not the user's own logout: say why
            self._show_error(text)

    def _show_error(self, text: str) -> None:
        self.status.setObjectName("errorText")
        self.status.setText(text)
        self._restyle()

    def _restyle(self) -> None:
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
