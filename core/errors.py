"""Errors that are the user's to fix. The CLI prints them as one line and exits non-zero; the web app
shows them as a message. Anything else is a bug and keeps its traceback."""


class UserError(Exception):
    """A problem with the user's input, files or settings, explained in one line.

    The line is a core.i18n.Msg (a Chinese message id and its parameters) where a web user reads it,
    so the web app shows it in the user's language (`message`); str() is the Chinese text, which the
    CLI prints. Messages only a command line shows may stay plain text."""

    exit_code = 1

    @property
    def message(self):
        """The message as raised: a core.i18n.Msg or plain text (translate it with core.i18n.render)."""
        return self.args[0] if self.args else ""


class ConfigError(UserError):
    """A setting is missing, unknown or has the wrong type."""

    exit_code = 2


class ImportRejected(UserError):
    """An import found bad rows; nothing was written. `problems` names each row and column."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        shown = "; ".join(problems[:5]) + (f"; … and {len(problems) - 5} more" if len(problems) > 5 else "")
        super().__init__(f"{source}: import rejected, nothing was written ({len(problems)} problem(s)): {shown}")


class ServiceUnavailable(UserError):
    """A service the command needs (the search cluster, a mail server) did not answer; nothing was
    lost and the same command can be run again later. The web app answers 503 with this message."""

    exit_code = 3


class DiskFull(UserError):
    """The disk holding data_dir is full: the work stopped with everything committed so far kept."""

    exit_code = 5


def is_disk_full(exc: BaseException | None) -> bool:
    """True when `exc`, or an exception it was raised from, says the disk is full (an OSError with
    ENOSPC or EDQUOT, or SQLite's "database or disk is full", also wrapped by SQLAlchemy)."""
    import errno

    seen = 0
    while exc is not None and seen < 10:  # bounded: a cause chain cannot loop us forever
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "database or disk is full" in str(exc):
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
        seen += 1
    return False
