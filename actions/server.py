"""Start the rasa-sdk action server on this package (same as `python -m rasa_sdk --actions actions`)."""

from __future__ import annotations

DEFAULT_PORT = 5055


def serve(port: int = DEFAULT_PORT, *, prepare_store: bool = True) -> None:
    """Prepare the store, then run the rasa-sdk action server until interrupted.

    Args:
        port: TCP port of the server.
        prepare_store: Create and seed an empty store first (honours SHOPINTENT_AUTO_SEED),
            so the first shopper does not wait for it.

    Raises:
        ActionsError: The store is unavailable or empty with auto-seeding off.
    """
    from rasa_sdk.__main__ import main_from_args
    from rasa_sdk.endpoint import create_argument_parser

    if prepare_store:
        from actions.store import ready_session_factory

        ready_session_factory()
    args = create_argument_parser().parse_args(["--actions", "actions", "--port", str(port)])
    main_from_args(args)
