"""The login window (G1): server, app ID, account, token or token URL, remember.

It only talks to the bridge: ``bridge.login(...)`` starts the attempt (Cancel stops it),
``login_failed`` brings back a sentence for the code, ``logged_in`` closes the window.
The details are remembered only after a login succeeded, so a mistyped server is never
kept; the token goes to the system keyring, never to the settings file.
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

from ..phone.credentials import TokenVault
from .bridge import Bridge
from .icons import icon
from .settings import AppSettings

__all__ = ["LoginWindow"]

#: Filled in for a first run (the demo app accepts it); never stored.
DEFAULT_TOKEN = "_no_need_token"


class LoginWindow(QWidget):
    def __init__(
        self,
        bridge: Bridge,
        settings: AppSettings,
        vault: TokenVault | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.settings = settings
        self.vault = vault if vault is not None else TokenVault()
        self.setWindowTitle("Sigphone — Log in")
        self.setWindowIcon(icon("app"))
        self.setMinimumWidth(420)
        self._migrate_token()

        title = QLabel("<h2>Sigphone</h2>Log in to your signaling server.")
        title.setTextFormat(Qt.TextFormat.RichText)

        self.server = QLineEdit(settings.text("login/server"))
        self.server.setPlaceholderText("host:9000 — several: host1:9000, host2:9000")
        self.server.setToolTip(
            "The signaling server's address: host:port, ws://host:port or wss://host. "
            "Give several, separated by commas, to fall back to the next one."
        )
        self.app_id = QLineEdit(settings.text("login/app_id"))
        self.app_id.setPlaceholderText("the app ID your administrator gave you")
        self.account = QLineEdit(settings.text("login/account"))
        self.account.setPlaceholderText("e.g. alice")
        remembered = self.vault.get(self.app_id.text().strip(), self.account.text().strip())
        self.token = QLineEdit(remembered or DEFAULT_TOKEN)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("a token, or http://host:9001/api/token")
        self.token.setToolTip(
            "Paste a login token, or give the server's token endpoint URL: the token is "
            "fetched for the account above. A certificate is never needed here."
        )
        self.show_token = QPushButton(icon("eye"), "")
        self.show_token.setCheckable(True)
        self.show_token.setAccessibleName("Show token")
        self.show_token.setToolTip("Show the token while you check it")
        self.show_token.toggled.connect(self._on_show_token)
        token_row = QHBoxLayout()
        token_row.setContentsMargins(0, 0, 0, 0)
        token_row.addWidget(self.token, 1)
        token_row.addWidget(self.show_token)
        self.remember = QCheckBox("&Remember these details")
        self.remember.setChecked(settings.flag("login/remember"))
        self.keyring_note = QLabel(self.vault.problem or "")
        self.keyring_note.setObjectName("noteText")
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setVisible(bool(self.vault.problem))
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
        form.addRow("&Token:", token_row)
        form.addRow("", self.remember)
        form.addRow("", self.keyring_note)
        for row, field in enumerate((self.server, self.app_id, self.account, self.token)):
            label = form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget()
            if isinstance(label, QLabel):
                label.setBuddy(field)

        self.status = QLabel("")
        self.status.setAccessibleName("Login status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.button = QPushButton(icon("login", "white"), "&Log in")
        self.button.setObjectName("callButton")
        self.button.setAccessibleName("Log in")
        self.button.setDefault(True)
        self.button.clicked.connect(self.submit)
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.setAccessibleName("Cancel login")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.bridge.cancel_login)
        for field in (self.server, self.app_id, self.account, self.token):
            field.returnPressed.connect(self.submit)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
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

    def values(self) -> list[str]:
        return [f.text().strip() for f in (self.server, self.app_id, self.account, self.token)]

    def submit(self) -> None:
        if self.bridge.status == "connecting":
            return
        values = self.values()
        missing = [n for n, v in zip(("server", "app ID", "account", "token"), values, strict=True)
                   if not v]  # fmt: skip
        if missing:
            self._show_error(f"Please fill in the {', '.join(missing)}.")
            return
        self._tried = values
        self.bridge.login(*values)

    def _remember(self, values: list[str]) -> None:
        """After a successful login only: a server that failed is never kept."""
        server, app_id, account, token = values
        keep = self.remember.isChecked()
        self.settings.set("login/remember", keep)
        for key, value in (
            ("login/server", server),
            ("login/app_id", app_id),
            ("login/account", account),
        ):
            self.settings.set(key, value if keep else "")
        if keep:
            self.vault.put(app_id, account, token)
        else:
            self.vault.forget(app_id, account)
        self.settings.sync()

    def _migrate_token(self) -> None:
        """A token an older version kept in the INI file goes to the keyring (or away)."""
        if not self.settings.contains("login/token"):
            return
        token = self.settings.text("login/token")
        app_id, account = self.settings.text("login/app_id"), self.settings.text("login/account")
        if token and token != DEFAULT_TOKEN:
            self.vault.put(app_id, account, token)
        self.settings.remove("login/token")
        self.settings.sync()

    def _on_show_token(self, shown: bool) -> None:
        self.token.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_token.setAccessibleName("Hide token" if shown else "Show token")
        self.show_token.setIcon(icon("eye-off" if shown else "eye"))

    def _on_status(self, status: str) -> None:
        connecting = status == "connecting"
        self.button.setEnabled(not connecting)
        self.button.setText("Connecting…" if connecting else "&Log in")
        self.cancel_button.setVisible(connecting)
        for field in (self.server, self.app_id, self.account, self.token):
            field.setReadOnly(connecting)
        if connecting:
            self.status.setObjectName("")
            self.status.setText(f"Connecting to {self.server.text().strip()}…")
            self._restyle()
            self.cancel_button.setFocus()

    def _on_failed(self, code: int, text: str) -> None:
        if code == 203:  # the user's own Cancel: say it plainly, not as an error
            self.status.setObjectName("")
            self.status.setText(text)
            self._restyle()
            return
        self._show_error(text)

    def _on_logged_in(self, _account: str) -> None:
        tried = getattr(self, "_tried", None)
        if tried is not None:
            self._remember(tried)
        self.status.setText("")
        self.hide()

    def _on_logged_out(self, code: int, text: str) -> None:
        if code != 101:  # not the user's own logout: say why
            self._show_error(text)
        else:
            self.status.setText("")

    def _show_error(self, text: str) -> None:
        self.status.setObjectName("errorText")
        self.status.setText(text)
        self._restyle()

    def _restyle(self) -> None:
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
