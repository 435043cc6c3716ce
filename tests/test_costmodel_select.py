"""--fit-on: a safe expression language over row fields, parsed with ast and never evaluated."""

import pytest

from costmodel import SelectError, parse_selection
from costmodel.select import select

ROWS = [
    {"family": "led", "size": "tiny", "input_len": 512, "batch_size": 2, "attention_window": 64},
    {"family": "led", "size": "large", "input_len": 4096, "batch_size": 1, "attention_window": 1024},
    {"family": "bigbird-pegasus", "size": "small", "input_len": 1024, "batch_size": 4, "block_size": 32},
    {"family": "bigbird-pegasus", "size": "large", "input_len": 2048, "batch_size": 1, "block_size": 64},
]


def picked(text):
    return [(r["family"], r["size"], r["input_len"]) for r in select(ROWS, text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('input_len <= 2048 and size != "large"', [0, 2]),
        ('family == "led" or (size in ["tiny", "small"])', [0, 1, 2]),
        ("not input_len > 1024", [0, 2]),
        ("512 < input_len <= 2048", [2, 3]),
        ('size not in ("large",) and batch_size >= 2', [0, 2]),
        ("input_len > -1", [0, 1, 2, 3]),
        ("attention_window >= 64", [0, 1]),  # rows without the field are not selected by an ordering
        ("block_size == None", [0, 1]),
        ("True", [0, 1, 2, 3]),
        ('family == "t5"', []),
    ],
)
def test_expressions_select_the_rows_they_say(text, expected):
    assert picked(text) == [picked("True")[i] for i in expected]


def test_a_selection_is_reusable_on_other_rows():
    selection = parse_selection("input_len >= 2048", {"input_len"})
    assert [selection(r) for r in ROWS] == [False, True, False, True]
    assert selection({}) is False


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('siz != "large"', "unknown field 'siz'"),
        ("input_len <=", "syntax error"),
        ('__import__("os").system("true")', "Call is not allowed"),
        ("family.upper() == 'LED'", "Call is not allowed"),
        ("size.real", "Attribute is not allowed"),
        ("input_len + 1 > 2", "BinOp is not allowed"),
        ("input_len[0] > 2", "Subscript is not allowed"),
        ("(lambda: 1)()", "Call is not allowed"),
        ("input_len is None", "operator Is is not allowed"),
        ("size in [family]", "lists hold constants only"),
        ("-input_len < 3", "a minus sign goes before a number only"),
        ("b'x' == size", "constant b'x' is not allowed"),
        ("[x for x in size]", "ListComp is not allowed"),
        ("input_len := 3", "syntax error"),
    ],
)
def test_bad_expressions_get_one_line_naming_expression_problem_and_fields(text, problem):
    with pytest.raises(SelectError) as info:
        select(ROWS, text)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"expression {text!r}: ")
    assert problem in message
    assert message.endswith("fields: attention_window, batch_size, block_size, family, input_len, size")


def test_comparing_values_of_different_kinds_is_a_select_error():
    with pytest.raises(SelectError, match=r"expression 'size > 3': cannot compare 'tiny' with 3"):
        select(ROWS, "size > 3")
