"""The one exception type for mistakes a user can fix."""


class HospitalError(Exception):
    """A user-facing error: its message says what is wrong and what to do.

    The CLI prints it as one red line and exits with code 2; a stage Job writes it
    into its termination message; nothing else catches it.
    """

    exit_code = 2


class Unavailable(Exception):
    """Something the stage needs did not answer and may come back (the Hugging Face hub, a disk).

    Not the user's mistake: the CLI prints one line and exits 1, so a stage Job's
    crash rules (backoffLimit, the operator's retries) try again.
    """

    exit_code = 1
