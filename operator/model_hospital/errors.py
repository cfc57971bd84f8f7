"""The one exception type for mistakes a user can fix."""


class HospitalError(Exception):
    """A user-facing error: its message says what is wrong and what to do.

    The CLI prints it as one red line and exits with code 2; a stage Job writes it
    into its termination message; nothing else catches it.
    """

    exit_code = 2
