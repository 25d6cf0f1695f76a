"""FastAPI dependencies of the review pages and API (and of the agent console, which shares
the review login).

Every protected route declares `ReviewerDep`: one check (`bot.review.auth.check_access`),
one failure, `ReviewAuthError`, which the API answers as JSON 401 and the pages as the
login form (`bot.review.install` registers that handler). The login and logout routes,
which must also work without access, take `MaybeReviewerDep`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bot.deps import EngineDep, MaybeChatDep, SettingsDep
from bot.review.auth import ReviewAccess, ReviewAuthError, check_access, configuration_problem
from bot.review.settings import ReviewSettings, get_review_settings

ReviewConfigDep = Annotated[ReviewSettings, Depends(get_review_settings)]


def review_access(
    request: Request, review: ReviewConfigDep, settings: SettingsDep, engine: EngineDep
) -> ReviewAccess | None:
    """How the request may review, or None (no, wrong or stale proof).

    Blocking (a session lookup): FastAPI runs this plain `def` in its thread pool.
    """
    return check_access(request, review, settings.webhook_token, engine)


MaybeReviewerDep = Annotated[ReviewAccess | None, Depends(review_access)]


async def require_reviewer(
    review: ReviewConfigDep, settings: SettingsDep, access: MaybeReviewerDep
) -> ReviewAccess:
    """How the request may review; every protected review and agent route declares it.

    Raises:
        ReviewAuthError: No or a wrong token or session, or review is not configured.
    """
    if access is None:
        problem = configuration_problem(review, settings.webhook_token)
        raise ReviewAuthError(
            problem
            or "the review API needs the review token: send `Authorization: Bearer <token>` "
            "(SHOPINTENT_REVIEW_TOKEN on the server) or log in at /review/login",
            problem=problem,
        )
    return access


ReviewerDep = Annotated[ReviewAccess, Depends(require_reviewer)]


async def get_handoff_action(chat: MaybeChatDep) -> str:
    """The domain's handoff action, which marks a turn as handed to a person."""
    return str(chat.domain.fallback.handoff_action) if chat is not None else "action_handoff"


HandoffActionDep = Annotated[str, Depends(get_handoff_action)]
