"""UsageError: a user's mistake, printed as one line with exit status 2 and nothing written."""


class UsageError(Exception):
    """One line naming the file or flag, the field and what is allowed."""
