"""Server configuration: command-line options, each also settable as a NUBO_* variable."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def default_data_dir() -> Path:
    """A per-user data directory: $XDG_DATA_HOME/nubo, else ~/.local/share/nubo."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                          "share")
    return Path(base) / "nubo"


def _env_bool(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


IAM_MODES = ("off", "soft", "enforce")


def _iam_mode() -> str:
    """NUBO_IAM, or LocalStack's ENFORCE_IAM=1 / IAM_SOFT_MODE=1 that users already set."""
    mode = os.environ.get("NUBO_IAM", "").strip().lower()
    if mode:
        if mode not in IAM_MODES:
            raise ValueError(f"NUBO_IAM must be one of {', '.join(IAM_MODES)}, not {mode!r}")
        return mode
    if _env_bool("ENFORCE_IAM"):
        return "soft" if _env_bool("IAM_SOFT_MODE") else "enforce"
    return "off"


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: Path | None = None  # None with ephemeral=True
    ephemeral: bool = False
    log_level: str = "warning"
    iam: str = "off"  # off | soft (evaluate and log) | enforce (deny as AWS does)
    verify_signatures: bool = False

    @classmethod
    def from_env(cls) -> "Config":
        ephemeral = _env_bool("NUBO_EPHEMERAL")
        data_dir = os.environ.get("NUBO_DATA_DIR")
        return cls(
            host=os.environ.get("NUBO_HOST", cls.host),
            port=int(os.environ.get("NUBO_PORT", cls.port)),
            data_dir=None if ephemeral else Path(data_dir) if data_dir else default_data_dir(),
            ephemeral=ephemeral,
            log_level=os.environ.get("NUBO_LOG_LEVEL", cls.log_level),
            iam=_iam_mode(),
            verify_signatures=_env_bool("NUBO_VERIFY_SIGNATURES"),
        )

    @property
    def store_path(self) -> Path | None:
        return None if self.ephemeral or self.data_dir is None else self.data_dir / "nubo.db"
