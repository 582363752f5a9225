"""Reading library imports: the exports of arXiv, Zotero, Google Scholar and paperboy as they
come, lists of ids in every spelling, and hostile files refused with a reason."""

from __future__ import annotations

import json

import pytest

from paperboy.domain.library_import import (
    MAX_IMPORT_BYTES,
    ImportEntry,
    ImportFileError,
    detect_kind,
    find_arxiv_id,
    parse_id_list,
)
from paperboy.domain.reference_formats import read_upload

# arXiv's own "Export BibTeX Citation", a Zotero (Better BibTeX-less) export and Google Scholar's.
ARXIV_BIBTEX = """@misc{vaswani2023attention,
      title={Attention Is All You Need},
      author={Ashish Vaswani and Noam Shazeer and Niki Parmar},
      year={2023},
      eprint={1706.03762},
      archivePrefix={arXiv},
      primaryClass={cs.CL},
      url={https://arxiv.org/abs/1706.03762},
}
"""
ZOTERO_BIBTEX = r"""
@misc{dosovitskiy_image_2021,
	title = {An {Image} is {Worth} 16x16 {Words}: {Transformers} for {Image} {Recognition} at {Scale}},
	shorttitle = {An {Image} is {Worth} 16x16 {Words}},
	url = {http://arxiv.org/abs/2010.11929},
	doi = {10.48550/arXiv.2010.11929},
	urldate = {2024-01-05},
	publisher = {arXiv},
	author = {Dosovitskiy, Alexey and Beyer, Lucas},
	month = jun,
	year = {2021},
	note = {arXiv:2010.11929 [cs]},
	keywords = {Computer Science - Computer Vision and Pattern Recognition},
}

@article{maldacena_large_1999,
	title = {The {Large}-{N} {Limit} of {Superconformal} {Field} {Theories} and {Supergravity}},
	volume = {38},
	doi = {10.1023/A:1026654312961},
	journal = {International Journal of Theoretical Physics},
	author = {Maldacena, Juan},
	year = {1999},
	note = {arXiv: hep-th/9711200},
	pages = {1113--1133},
}
"""
SCHOLAR_BIBTEX = r"""@article{devlin2018bert,
  title={Bert: Pre-training of deep bidirectional transformers for language understanding},
  author={Devlin, Jacob and Chang, Ming-Wei and Lee, Kenton and Toutanova, Kristina},
  journal={arXiv preprint arXiv:1810.04805},
  year={2018}
}

@inproceedings{he2016deep,
  title={Deep residual learning for image recognition},
  author={He, Kaiming and Zhang, Xiangyu and Ren, Shaoqing and Sun, Jian},
  booktitle={Proceedings of the IEEE conference on computer vision and pattern recognition},
  pages={770--778},
  year={2016}
}

@article{he2016deep,
  title={Sch{\"o}dinger's {\'E}quations},
  author={He, Kaiming},
  year={2016}
}
"""
ZOTERO_RIS = (
    "TY  - GEN\r\nTI  - Language Models are Few-Shot Learners\r\nAU  - Brown, Tom B.\r\n"
    "AB  - Recent work has demonstrated gains, see arXiv:1810.04805.\r\nDA  - 2020/07/22/\r\n"
    "PY  - 2020\r\nDO  - 10.48550/arXiv.2005.14165\r\nDP  - arXiv.org\r\nPB  - arXiv\r\n"
    "UR  - http://arxiv.org/abs/2005.14165\r\nN1  - arXiv:2005.14165 [cs]\r\n"
    "KW  - Computer Science - Computation and Language\r\nER  - \r\n\r\n"
    "TY  - JOUR\r\nTI  - A paper without an id\r\nAU  - Nobody, A.\r\nPY  - 2001\r\nER  - \r\n"
)
PAPERBOY_RIS = (
    "TY  - UNPB\r\nAU  - Ada Lovelace\r\nTI  - Old style\r\nPY  - 1999\r\n"
    "UR  - https://arxiv.org/abs/hep-th/9901001\r\nAN  - arXiv:hep-th/9901001\r\nDB  - arXiv\r\nER  - \r\n"
)
CSL_JSON = [
    {
        "id": "http://zotero.org/users/1/items/ABCD1234",
        "type": "article",
        "title": "Deep Residual Learning for Image Recognition",
        "URL": "http://arxiv.org/abs/1512.03385",
        "DOI": "10.48550/arXiv.1512.03385",
        "number": "arXiv:1512.03385",
        "note": "arXiv:1512.03385 [cs]",
        "abstract": "Unlike arXiv:1706.03762 ...",
    },
    {"id": "smith2020", "type": "article-journal", "title": "Only a title"},
]
ZOTERO_CSV = (
    '\ufeff"Key","Item Type","Publication Year","Author","Title","Publication Title","ISBN","ISSN",'
    '"DOI","Url","Abstract Note","Date","Extra","Archive Location"\n'
    '"AB12CD34","preprint","2024","Doe, Jane","Scaling Laws, Revisited","","","",'
    '"10.48550/arXiv.2401.01234","http://arxiv.org/abs/2401.01234v2","It builds on arXiv:2001.08361.",'
    '"2024-01-02","arXiv:2401.01234 [cs]",""\n'
    '"EF56GH78","journalArticle","1998","Roe, R.","A Journal Paper","Phys. Rev.","","","","","",'
    '"1998","",""\n'
)


def _read(text: str, filename: str = "") -> tuple[str, list[ImportEntry]]:
    upload = read_upload(text.encode(), filename)
    return upload.kind, upload.entries


def test_arxivs_own_bibtex():
    assert _read(ARXIV_BIBTEX) == ("bibtex", [ImportEntry("1706.03762", "Attention Is All You Need")])


def test_zotero_bibtex_finds_ids_in_url_doi_and_note():
    kind, entries = _read(ZOTERO_BIBTEX)
    assert kind == "bibtex"
    assert [entry.arxiv_id for entry in entries] == ["2010.11929", "hep-th/9711200"]
    assert entries[0].title == "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale"


def test_google_scholar_bibtex_journal_field_titles_and_colliding_keys():
    _, entries = _read(SCHOLAR_BIBTEX)
    assert entries == [
        ImportEntry(
            "1810.04805", "Bert: Pre-training of deep bidirectional transformers for language understanding"
        ),
        ImportEntry(None, "Deep residual learning for image recognition"),
        ImportEntry(None, "Schödinger's Équations"),  # the second he2016deep is kept, accents decoded
    ]


def test_ris_from_zotero_and_from_paperboy_itself():
    kind, entries = _read(ZOTERO_RIS)
    assert kind == "ris"
    assert entries == [
        ImportEntry("2005.14165", "Language Models are Few-Shot Learners"),  # not the abstract's id
        ImportEntry(None, "A paper without an id"),
    ]
    assert _read(PAPERBOY_RIS)[1] == [ImportEntry("hep-th/9901001", "Old style")]


def test_csl_json_and_zotero_csv():
    kind, entries = _read(json.dumps(CSL_JSON))
    assert kind == "csl_json"
    assert entries == [
        ImportEntry("1512.03385", "Deep Residual Learning for Image Recognition"),
        ImportEntry(None, "Only a title"),
    ]
    kind, entries = _read(ZOTERO_CSV, "Exported Items.csv")
    assert kind == "csv"
    assert entries == [
        ImportEntry("2401.01234", "Scaling Laws, Revisited"),
        ImportEntry(None, "A Journal Paper"),
    ]


def test_a_list_of_ids_in_every_spelling():
    text = """# my reading list
2401.01234v2
hep-th/9901001
https://arxiv.org/abs/2310.06825
http://arxiv.org/pdf/2106.09685v2.pdf, arXiv:1706.03762
https://arxiv.org/html/2402.00001v1   # an html link
10.48550/arXiv.2005.14165
https://doi.org/10.48550/arXiv.1512.03385
not-an-id
"""
    assert detect_kind(text) == "ids"
    entries = parse_id_list(text)
    assert [entry.arxiv_id for entry in entries] == [
        "2401.01234",
        "hep-th/9901001",
        "2310.06825",
        "2106.09685",
        "1706.03762",
        "2402.00001",
        "2005.14165",
        "1512.03385",
        None,
    ]
    assert entries[-1].title == "not-an-id"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("arXiv preprint arXiv:2010.11929", "2010.11929"),
        ("https://arxiv.org/abs/math.GT/0309136v1", "math/0309136"),
        ("arXiv:1501.0001", None),  # 1501 and later have five digits
        ("see 2401.01234 somewhere", None),  # a bare number in prose is not trusted
        ("http://arxiv.org/abs/2401.012345", None),
    ],
)
def test_ids_in_text(text, found):
    assert find_arxiv_id(text) == found


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        ("@misc{a, title={é}}".encode("latin-1"), "not UTF-8"),
        ("2401.01234".encode("utf-16"), "not UTF-8"),
        (b"@misc{a, title={Unclosed,\n year=2020\n}\n@misc{b, title={Fine}}\n", "line 1 cannot be read"),
        (b'{"format": "paperboy-library", "version": 9, "saved": []}', "version 1"),
        (b'{"format": "paperboy-library", "version": 1, "saved": [{"arxiv_id": "nope"}]}', "not one"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'[{"title": "x"}, 3]', "Item 2"),
        (b"Key,Year\nA,1\n", "neither a Title column"),
        (b"@misc{a, title={A}}\n" * 5_001, "more than 5,000 entries"),
        (b"# nothing but a comment\n", "No entries"),
    ],
)
def test_hostile_files_are_refused_with_a_reason(data, reason):
    with pytest.raises(ImportFileError, match=reason):
        read_upload(data, "upload.csv" if data.startswith(b"Key") else "upload")


def test_a_file_over_the_size_cap_is_refused_before_it_is_read():
    with pytest.raises(ImportFileError, match="larger than 2 MB"):
        read_upload(b"2401.01234\n" * (MAX_IMPORT_BYTES // 11 + 1))
