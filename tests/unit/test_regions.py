"""web/regions.py with a real Jinja environment: a region is rendered once per basis object and
key, each reader's values and choices are filled in (escaped), and text that looks like a marker
stays text."""

from __future__ import annotations

import jinja2
import pytest

from paperboy.web.regions import RegionCache, reader_choice, reader_value

TEMPLATE = """\
{% call shared_region(basis, "k", values={"who": who}, choices={"on": on}) -%}
{% for item in items %}[{{ item }}:
{%- call(x) reader_choice("on", item, item in on) %}{{ "ON" if x else "off" }}/{{ reader_value("who", who) }}
{%- endcall %}]{% endfor %}
{%- endcall %}"""


@pytest.fixture
def render():
    regions = RegionCache()
    env = jinja2.Environment(autoescape=True)
    env.globals.update(shared_region=regions, reader_choice=reader_choice, reader_value=reader_value)
    template = env.from_string(TEMPLATE)

    def render(basis, items, who, on):
        return template.render(basis=basis, items=items, who=lambda: who, on=set(on))

    render.regions = regions
    return render


def test_rendered_once_per_basis_and_filled_for_each_reader(render):
    basis = object()
    assert render(basis, ["a", "b"], "ada", {"a"}) == "[a:ON/ada][b:off/ada]"
    assert render(basis, ["a", "b"], "bob", {"b"}) == "[a:off/bob][b:ON/bob]"
    # the same basis: the items are not looked at again (the region is the one made first)
    assert render(basis, ["z"], "cy", set()) == "[a:off/cy][b:off/cy]"
    assert (render.regions.misses, render.regions.hits) == (1, 2)
    assert render(object(), ["z"], "cy", set()) == "[z:off/cy]"  # another basis, made anew


def test_values_are_escaped_and_marker_lookalikes_stay_text(render):
    hostile = "\x00" + "0" * 16 + ":0\x00<b>"
    html = render(object(), [hostile], "<script>", set())
    assert html == f"[{hostile.replace('<', '&lt;').replace('>', '&gt;')}:off/&lt;script&gt;]"


def test_without_a_basis_the_body_renders_for_this_reader_alone(render):
    assert render(None, ["a"], "ada", {"a"}) == "[a:ON/ada]"
    assert render(None, ["a"], "bob", set()) == "[a:off/bob]"
    assert len(render.regions) == 0


def test_a_value_the_reader_lacks_is_an_error_not_a_marker():
    regions = RegionCache()
    env = jinja2.Environment(autoescape=True)
    env.globals.update(shared_region=regions, reader_value=reader_value)
    template = env.from_string(
        '{% call shared_region(basis, "k") %}{{ reader_value("csrf", f) }}{% endcall %}'
    )
    with pytest.raises(KeyError, match="csrf"):
        template.render(basis=object(), f=lambda: "x")


# A card hidden as a whole, with a vote button inside it; choices with nothing when off, side by
# side and at the very start or end of the hidden part: the on parts that apply, and only those.
NESTED = """\
{% call shared_region(basis, "k", values={"who": who}, choices=choices) -%}
{% for item in items %}<{% call(h) reader_choice("hidden", item, item in hidden) %}{% if h %}gone{% else %}
{%- call(m) reader_choice("mark", item, item in mark) %}{{ "*" if m }}{% endcall %}
{%- call(v) reader_choice("voted", item, item in voted) %}{{ "V" if v else "v" }}:
{{- reader_value("who", who) }}{% endcall %}
{%- call(m) reader_choice("mark", item + "!", item + "!" in mark) %}{{ "!" if m }}{% endcall %}
{%- endif %}{% endcall %}>{% endfor %}
{%- endcall %}"""


@pytest.mark.parametrize(
    ("hidden", "voted", "mark"),
    [
        (set(), set(), set()),
        ({"a"}, {"a"}, {"a", "a!"}),
        (set(), {"a", "b"}, {"a", "b!"}),
        ({"b"}, {"a"}, {"b", "a!", "b!"}),
        ({"a", "b"}, {"a", "b"}, {"a", "b", "a!", "b!"}),
    ],
)
def test_nested_and_adjacent_choices_fill_as_the_reader_alone_would_see_them(hidden, voted, mark):
    regions = RegionCache()
    env = jinja2.Environment(autoescape=True)
    env.globals.update(shared_region=regions, reader_choice=reader_choice, reader_value=reader_value)
    template = env.from_string(NESTED)

    def render(basis, who):
        choices = {"hidden": hidden, "voted": voted, "mark": mark}
        return template.render(basis=basis, items=["a", "b"], who=lambda: who, choices=choices, **choices)

    basis = object()
    render(basis, "first")  # kept, then filled for the reader below
    assert render(basis, "<ada>") == render(None, "<ada>")
    assert (regions.misses, regions.hits) == (1, 1)


def test_spliced_regions_reach_the_body_as_bytes(render):
    from starlette.responses import HTMLResponse

    from paperboy.web.regions import spliced_regions

    basis = object()
    render(basis, ["a", "é✕"], "ada", set())
    with spliced_regions() as splice:
        page = render(basis, ["a", "é✕"], "bob", {"é✕"})
        response = splice(HTMLResponse(f"<p>{page}</p>"))
    assert "\x00" in page  # the template holds a marker, not the region
    assert "bob" not in page
    assert response.body == "<p>[a:off/bob][é✕:ON/bob]</p>".encode()
    assert response.headers["content-length"] == str(len(response.body))


def test_a_kept_region_leaves_the_garbage_collector_little_to_walk(render):
    """A kept region is tuples of ints, strings and bytes the collector stops tracking, and one
    tuple of references (`ons`): a full collection's walk (a pause with the GIL held) does not
    grow with every reader's kept page, as a list per card and choice made it."""
    import gc

    from paperboy.web.regions import _Flat

    render(object(), [f"paper-{n}" for n in range(100)], "ada", {"paper-3"})
    (_, flat, _), *_ = render.regions._entries.values()
    assert isinstance(flat, _Flat)
    assert len(flat.spans) == 100
    for _ in range(3):  # a tuple is untracked once what it holds is, a collection after it
        gc.collect()
    inside = [flat.parts, flat.spans, flat.slots, *flat.spans.values(), *flat.slots.values()]
    inside += [span for spans in flat.spans.values() for span in spans]
    assert [part for part in inside if gc.is_tracked(part)] == []
    assert gc.is_tracked(flat.ons)
    assert len(flat.ons) == 100
