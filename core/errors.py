"""Errors that are the user's to fix. The CLI prints them as one line and exits non-zero; the web app
shows them as a message. Anything else is a bug and keeps its traceback."""


class UserError(Exception):
    """A problem with the user's input, files or settings, explained in one line."""

    exit_code = 1


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
