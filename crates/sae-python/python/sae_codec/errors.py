"""The exceptions the codec raises; the message is the library's one line,
as the ``sae`` command line prints it."""


class SaeError(Exception):
    """Base of every error the codec raises."""


class InvalidInput(SaeError, ValueError):
    """The caller's data or setting is at fault: a wrong dtype or shape, a
    NaN or infinity, a value out of a setting's domain."""


class FormatError(SaeError):
    """Bytes or a file are not what they claim: a corrupt or truncated
    container, a container of another model, a model file this version
    cannot load."""
