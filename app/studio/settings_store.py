"""The QSettings the window keeps its remembered settings in: an ini file everywhere (the text
app/model/settings_file.py checks before Qt reads it; a registry or a property list could not be
checked), used only when Qt may read it."""
from __future__ import annotations

from PySide6.QtCore import QSettings

from app.model import settings_file
from app.model.remembered import Unremembered


def user_settings() -> QSettings:
    """The user's own settings file (on Linux ~/.config/CNN Studio/CNN Studio.ini)."""
    return QSettings(QSettings.IniFormat, QSettings.UserScope, "CNN Studio", "CNN Studio")


def format_error(settings: QSettings) -> bool:
    """Whether Qt finds a line of the file that is no ini line (it parses every section to say: call
    only once settings_file.problem found nothing)."""
    settings.allKeys()
    return getattr(settings.status(), "value", settings.status()) == 2   # QSettings.FormatError


def usable(settings: QSettings | None) -> tuple[QSettings | Unremembered, str | None]:
    """The settings to use and a note naming the file when it is not used: then they are kept in
    memory for this session, and the file is neither read by Qt nor written."""
    settings = settings if settings is not None else user_settings()
    name = settings.fileName()
    problem = settings_file.problem(name)
    if problem is None and format_error(settings):
        problem = f"{name}: is not a settings file (Qt cannot read it as an ini file)"
    if problem is None:
        return settings, None
    return Unremembered(name), (f"{problem}; settings are at their defaults and will not be remembered until "
                                "the file is deleted or replaced.")
