"""The change hub: typed delivery, weak subscriptions, messages held until the cause has finished."""

import gc

from annotator.core.changes import Change, Hub


class View:
    def __init__(self):
        self.seen = []

    def on_change(self, message):
        self.seen.append(message)


def test_changes_deliver_by_type_once_per_subscriber():
    hub, view, other = Hub(), View(), []
    hub.subscribe(view.on_change, Change)
    hub.subscribe(view.on_change, Change)  # twice: delivered once
    hub.subscribe(other.append, str)
    hub.publish(Change(1, (5,)))
    hub.publish("not a change")
    assert view.seen == [Change(1, (5,))] and other == ["not a change"]
    hub.unsubscribe(view.on_change)
    hub.publish(Change(2))
    assert len(view.seen) == 1


def test_changes_subscriptions_are_weak():
    hub, view = Hub(), View()
    hub.subscribe(view.on_change, Change)
    del view
    gc.collect()
    hub.publish(Change(1))  # nobody left: no error, and the dead subscription is dropped
    assert hub._subscribers == []


def test_changes_held_until_the_block_ends_in_order():
    hub, view = Hub(), View()
    hub.subscribe(view.on_change)
    with hub.held():
        hub.publish(Change(1))
        with hub.held():
            hub.publish(Change(2))
        assert view.seen == []
    assert view.seen == [Change(1), Change(2)]
