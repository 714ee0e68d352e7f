"""optim.slot_swaps: training copies with slot values swapped within (intent, slot type)."""

from __future__ import annotations

from luodi.text.data import Span, TextExample
from luodi.text.train import swap_slot_values


def _ex(text: str, label: str, *spans: tuple[str, str]) -> TextExample:
    out = []
    for value, typ in spans:
        start = text.index(value)
        out.append(Span(start, start + len(value), typ))
    return TextExample(text, label, tuple(out))


TRAIN = [
    _ex("给张三打电话", "DIAL", ("张三", "name")),
    _ex("呼叫王小明", "DIAL", ("王小明", "name")),
    _ex("打开微信", "LAUNCH", ("微信", "name")),
    _ex("打开支付宝", "LAUNCH", ("支付宝", "name")),
    _ex("从北京到上海的火车", "QUERY", ("北京", "start"), ("上海", "end")),
    _ex("从广州到深圳的火车", "QUERY", ("广州", "start"), ("深圳", "end")),
    _ex("你好", "CHAT"),
]


def test_copies_keep_the_carrier_text_and_move_the_spans() -> None:
    made, source = swap_slot_values(TRAIN, 2, seed=0)
    assert len(made) == 2 * 6 and source == [i for i in range(6) for _ in range(2)]  # the CHAT text has no slots
    for ex, i in zip(made, source, strict=True):
        orig = TRAIN[i]
        assert ex.label == orig.label and len(ex.spans or ()) == len(orig.spans or ())
        # every span still covers a value, in order, and the text between them is the original's
        rebuilt, at = "", 0
        for sp, old in zip(ex.spans or (), orig.spans or (), strict=True):
            assert sp.type == old.type
            # a value of the same intent and type: a person is called, an app opened
            pool = {s.value(t.text) for t in TRAIN if t.label == orig.label for s in t.spans or () if s.type == sp.type}
            assert sp.value(ex.text) in pool
            rebuilt += orig.text[at : old.start] + sp.value(ex.text)
            at = old.end
        assert rebuilt + orig.text[at:] == ex.text


def test_seeded_and_off() -> None:
    assert swap_slot_values(TRAIN, 1, seed=3) == swap_slot_values(TRAIN, 1, seed=3)
    assert swap_slot_values(TRAIN, 0, seed=0) == ([], [])
