"""Policy actions: returns and refunds, delivery options, payment methods."""

from __future__ import annotations

from sqlalchemy import select

from actions.access import known_order
from actions.base import EventList, ShopAction, Turn, slot_events
from actions.models import DeliveryOption, Order, OrderStatus, PaymentMethod, Product, ShopPolicy
from actions.orders import return_days, return_deadline, utcnow
from actions.product_actions import resolve_mentioned
from actions.replies import ask_buttons, day, money, truncate
from actions.search import get_product


def _policy(turn: Turn, key: str) -> str:
    policy = turn.session.get(ShopPolicy, key)
    return policy.body if policy else ""


class ActionReturnPolicy(ShopAction):
    """The return/refund policy of an order's products, of one product, or of the shop."""

    NAME = "action_return_policy"

    def handle(self, turn: Turn) -> EventList:
        """Answer for the order if one is mentioned, else for the product, else in general."""
        order_id = turn.order_id()
        if order_id:
            order = known_order(turn)
            if order is None:
                # Only an order the shopper has shown is theirs is described; the same
                # words whether the number exists or not.
                turn.say(
                    f"Here is our general policy: {_policy(turn, 'returns')}\nTo check the "
                    f"items of order {truncate(order_id, 20)}, ask me where it is first, so I "
                    "can confirm it's yours.",
                    buttons=ask_buttons(
                        [("Track it", f"Where is order {truncate(order_id, 20)}?")]
                    ),
                )
                return []
            return self._for_order(turn, order)
        resolution = resolve_mentioned(turn)
        if resolution.product is not None:
            product = turn.session.get(Product, resolution.product.id)
            if product is not None:
                turn.say(
                    f"{product.title}: {product.return_policy or 'no specific return policy'}. "
                    f"{_policy(turn, 'refunds')}",
                    products=[resolution.product],
                )
                return slot_events(product=product.title)
        turn.say(
            f"{_policy(turn, 'returns')}\n{_policy(turn, 'refunds')}\nTell me your order number "
            "and I'll check the policy of each item in it.",
        )
        return []

    def _for_order(self, turn: Turn, order: Order) -> EventList:
        now = utcnow()
        lines = []
        for line in order.lines:
            policy = line.product.return_policy or "no return policy"
            days = return_days(policy)
            deadline = return_deadline(order, policy)
            if days is None:
                state = "can't be returned unless it arrived faulty"
            elif order.status == OrderStatus.DELIVERED and deadline is not None:
                state = (
                    f"returnable until {day(deadline)}"
                    if deadline >= now
                    else f"the return window closed on {day(deadline)}"
                )
            elif order.status in (OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.SHIPPED):
                state = f"{days} days to return it once it's delivered"
            else:
                state = f"{days} days from delivery"
            lines.append(f"- {line.product.title}: {policy} ({state})")
        status = {
            OrderStatus.CANCELLED: " The order was cancelled, so there is nothing to return.",
            OrderStatus.REFUNDED: " This order has already been returned and refunded.",
        }.get(OrderStatus(order.status), "")
        turn.say(
            f"Return policy for the items in order {order.number}:{status}\n" + "\n".join(lines),
            buttons=ask_buttons([("Refund status", f"Refund status of order {order.number}")]),
        )
        return slot_events(order_id=order.number)


class ActionDeliveryOptions(ShopAction):
    """Delivery options with prices and periods; a product's own shipping time if named."""

    NAME = "action_delivery_options"

    def handle(self, turn: Turn) -> EventList:
        """List the delivery options, adding the product's or order's specifics."""
        options = turn.session.scalars(
            select(DeliveryOption).order_by(DeliveryOption.min_days.desc(), DeliveryOption.price)
        ).all()
        lines = []
        for opt in options:
            period = f"{opt.min_days} business day" + ("s" if opt.max_days > 1 else "")
            if opt.max_days != opt.min_days:
                period = f"{opt.min_days}-{opt.max_days} business days"
            price = "free" if opt.price == 0 else money(opt.price)
            free = f", free on orders over {money(opt.free_over)}" if opt.free_over else ""
            lines.append(f"- {opt.name} ({opt.description.lower()}): {period}, {price}{free}")
        text = "We deliver with:\n" + "\n".join(lines)
        events: EventList = []
        products = None
        order = known_order(turn)
        if order is not None:
            text += f"\nYour order {order.number} goes by {order.shipping_method} delivery."
            events = slot_events(order_id=order.number)
        else:
            entity = turn.entity("product")
            resolution = resolve_mentioned(turn) if entity or turn.text else None
            if resolution is not None and resolution.product is not None:
                hit = get_product(turn.session, resolution.product.id)
                product = turn.session.get(Product, resolution.product.id)
                if product is not None and hit is not None:
                    text += f"\nThe {product.title} itself: {product.shipping_info.lower()} from our warehouse."
                    products = [hit]
                    events = slot_events(product=product.title)
        turn.say(text, products=products)
        return events


class ActionPaymentMethods(ShopAction):
    """The payment methods the shop accepts."""

    NAME = "action_payment_methods"

    def handle(self, turn: Turn) -> EventList:
        """List payment methods from the store."""
        methods = turn.session.scalars(select(PaymentMethod).order_by(PaymentMethod.id)).all()
        if not methods:
            turn.say("Our payment options aren't set up yet; a person from support can help.")
            return []
        lines = "\n".join(f"- {m.name}: {m.description}" for m in methods)
        turn.say(f"You can pay with:\n{lines}\nYou're charged when the order is placed.")
        return []
