"""The one exception type whose message is meant for the person using the studio."""


class StudioError(ValueError):
    """A problem the user can act on: bad input, a missing or broken checkpoint.

    The message is complete and readable as it is; the CLI prints it without a
    traceback and the UI shows it in a toast.
    """
